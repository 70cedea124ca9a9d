"""Properties of the AttributeValue codec, driven by ddbstream.testing.strategies."""

from __future__ import annotations

import base64
import contextlib
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from _boto3_shapes import boto3_shape
from ddbstream import (
    DataError,
    DecodeError,
    EncodeError,
    deserialize,
    deserialize_image,
    serialize,
    serialize_image,
)
from ddbstream.testing.strategies import attribute_values, images, python_values

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _canonical(av: dict[str, Any]) -> dict[str, Any]:
    """The spelling serialize() emits for a descriptor: numbers in plain notation (as DynamoDB
    returns them), sets sorted."""
    ((tag, value),) = av.items()
    if tag == "N":
        return {"N": format(Decimal(value), "f")}
    if tag == "NS":
        return {"NS": [format(n, "f") for n in sorted(Decimal(v) for v in value)]}
    if tag == "SS":
        return {"SS": sorted(value)}
    if tag == "BS":
        ordered = sorted(base64.b64decode(v) for v in value)
        return {"BS": [base64.b64encode(b).decode() for b in ordered]}
    if tag == "M":
        return {"M": {k: _canonical(v) for k, v in value.items()}}
    if tag == "L":
        return {"L": [_canonical(v) for v in value]}
    return av


# -- round trips --------------------------------------------------------------------------


@SETTINGS
@given(python_values())
def test_deserialize_inverts_serialize(value: Any) -> None:
    assert deserialize(serialize(value)) == value


@SETTINGS
@given(attribute_values())
def test_serialize_inverts_deserialize_on_canonical_descriptors(av: dict[str, Any]) -> None:
    assert serialize(deserialize(av)) == _canonical(av)
    assert serialize(deserialize(_canonical(av))) == _canonical(av)


@SETTINGS
@given(images(key_schema={"pk": "S", "sk": "N"}))
def test_image_round_trip(image: dict[str, Any]) -> None:
    item = deserialize_image(image)
    assert serialize_image(item) == {k: _canonical(v) for k, v in image.items()}


def test_types_of_decoded_values() -> None:
    av = {
        "M": {
            "s": {"S": "x"},
            "n": {"N": "1.50"},
            "b": {"B": "aGk="},
            "t": {"BOOL": True},
            "z": {"NULL": True},
            "l": {"L": [{"N": "1"}]},
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2.5"]},
            "bs": {"BS": ["aGk="]},
        }
    }
    assert deserialize(av) == {
        "s": "x",
        "n": Decimal("1.50"),
        "b": b"hi",
        "t": True,
        "z": None,
        "l": [Decimal(1)],
        "ss": {"a", "b"},
        "ns": {Decimal(1), Decimal("2.5")},
        "bs": {b"hi"},
    }
    assert str(deserialize({"N": "1.50"})) == "1.50"  # exact, not normalised


# -- DynamoDB's limits --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "9" * 38,
        "-" + "9" * 38,
        "1E-130",
        "-1E-130",
        "9.9999999999999999999999999999999999999E+125",
        "1" + "0" * 125,
        "0.0000001",
        "0",
        "-0",
        "1" + "0" * 100 + "1" * 0,
    ],
)
def test_numbers_within_limits_decode(text: str) -> None:
    value = deserialize({"N": text})
    assert value == Decimal(text)
    assert deserialize(serialize(value)) == value


@pytest.mark.parametrize(
    "text",
    [
        "9" * 39,
        "1" + "0" * 40 + "1",
        "1E-131",
        "1E+126",
        "NaN",
        "Infinity",
        "-Infinity",
        "sNaN",
        "",
        " 1",
        "1 ",
        "0x10",
        "1_000",
        "\u0661",  # an Arabic-Indic digit: Decimal() takes it, DynamoDB does not
        "1e999999999999999999999",
    ],
)
def test_numbers_beyond_limits_raise(text: str) -> None:
    with pytest.raises(DecodeError) as info:
        deserialize({"N": text}, path=("NewImage", "qty"))
    assert info.value.path == ("NewImage", "qty")


@pytest.mark.parametrize(
    "value",
    [
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("1E+126"),
        Decimal("1E-131"),
        10**38 + 1,
        1.5,
        float("nan"),
        set(),
        {1, "a"},
        {True},
        object(),
        {1: "a"},
    ],
    ids=lambda v: repr(sorted(v, key=repr)) if isinstance(v, set) else str(v)[:20],
)
def test_values_dynamodb_cannot_hold_raise_encode_error(value: Any) -> None:
    with pytest.raises(EncodeError):
        serialize(value)


def test_encode_error_names_the_path_and_is_a_data_error_not_a_decode_error() -> None:
    with pytest.raises(EncodeError) as info:
        serialize({"items": [{"qty": 1}, {"qty": 1.5}]})
    assert isinstance(info.value, DataError)
    assert not isinstance(info.value, DecodeError)
    assert info.value.path == ("items", 1, "qty")


def _nested(levels: int) -> tuple[dict[str, Any], Any]:
    av: dict[str, Any] = {"S": "leaf"}
    value: Any = "leaf"
    for _ in range(levels):
        av, value = {"M": {"a": av}}, {"a": value}
    return av, value


def test_nesting_limit_is_the_same_both_ways() -> None:
    """DynamoDB Local accepts 31 containers around a value and rejects a 32nd (tests/testing/
    test_dynamodb_local_facts.py pins that); the codec draws the line at the same place."""
    ok_av, ok_value = _nested(31)
    assert deserialize(ok_av) == ok_value
    assert serialize(ok_value) == ok_av
    bad_av, bad_value = _nested(32)
    with pytest.raises(DecodeError):
        deserialize(bad_av)
    with pytest.raises(EncodeError):
        serialize(bad_value)


def test_very_deep_input_is_a_decode_error_not_a_recursion_error() -> None:
    av: Any = {"S": "x"}
    for _ in range(100_000):
        av = {"L": [av]}
    with pytest.raises(DecodeError):
        deserialize(av)


# -- invalid input: only DecodeError ------------------------------------------------------

BAD_DESCRIPTORS = [
    {},
    {"S": "a", "N": "1"},
    {"X": "a"},
    {"S": 1},
    {"N": 1},
    {"N": 1.5},
    {"B": "not base64!"},
    {"B": "aGk"},  # unpadded
    {"B": b"hi"},
    {"BOOL": "true"},
    {"BOOL": 1},
    {"NULL": False},
    {"M": []},
    {"L": {}},
    {"SS": []},
    {"SS": ["a", "a"]},
    {"NS": ["1", "1.0"]},
    {"BS": ["aGk=", "aGk="]},
    {"SS": "a"},
    {"NS": [1]},
    None,
    [],
    "S",
]


@pytest.mark.parametrize("bad", BAD_DESCRIPTORS, ids=repr)
def test_bad_descriptors_raise_decode_error(bad: Any) -> None:
    with pytest.raises(DecodeError):
        deserialize(bad)


@SETTINGS
@given(
    attribute_values(max_depth=2, types=("M", "S", "N")).filter(lambda av: "M" in av),
    st.sampled_from(BAD_DESCRIPTORS),
)
def test_a_bad_value_anywhere_is_located(av: dict[str, Any], bad: Any) -> None:
    broken = {"M": {**av["M"], "bad": {"L": [{"S": "ok"}, bad]}}}
    with pytest.raises(DecodeError) as info:
        deserialize(broken, path=("NewImage", "doc"))
    assert info.value.path[:4] == ("NewImage", "doc", "bad", 1)
    assert "at NewImage.doc.bad[1]" in str(info.value)


TAGS = st.sampled_from(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS", "X", ""])
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["1", "1e400", "NaN", "-0", "AA==", "=", "1.2.3", "9" * 40, "1E-131"])
)
GARBAGE = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(TAGS | st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=25,
)


@SETTINGS
@given(GARBAGE)
def test_garbage_raises_only_decode_error(garbage: Any) -> None:
    try:
        value = deserialize(garbage)
    except DecodeError:
        return
    # whatever was accepted is a value DynamoDB can hold, and round-trips
    assert deserialize(serialize(value)) == value


@SETTINGS
@given(GARBAGE)
def test_garbage_images_raise_only_decode_error(garbage: Any) -> None:
    with contextlib.suppress(DecodeError):
        deserialize_image(garbage)


# -- boto3 agrees on valid input ----------------------------------------------------------


def _plain(value: Any) -> Any:
    from boto3.dynamodb.types import Binary

    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


@SETTINGS
@given(attribute_values())
def test_agrees_with_boto3_type_deserializer(av: dict[str, Any]) -> None:
    import decimal

    from boto3.dynamodb.types import TypeDeserializer

    try:
        expected = _plain(TypeDeserializer().deserialize(boto3_shape(av)))
    except (decimal.Inexact, decimal.Rounded, decimal.Underflow, decimal.Clamped):
        # boto3's context (Emin=-128) rejects 38-digit numbers near 1E-130 that DynamoDB holds
        assume(False)
    ours = deserialize(av)
    assert ours == expected
    assert repr(ours) == repr(expected) or _has_sets(av)


def _has_sets(av: dict[str, Any]) -> bool:
    ((tag, value),) = av.items()
    if tag in ("SS", "NS", "BS"):
        return True
    if tag == "M":
        return any(_has_sets(v) for v in value.values())
    if tag == "L":
        return any(_has_sets(v) for v in value)
    return False


def test_boto3_silently_accepts_what_we_reject() -> None:
    """The reason this codec exists: boto3 turns bad numbers into NaN or Infinity."""
    from boto3.dynamodb.types import TypeDeserializer

    assert math.isnan(TypeDeserializer().deserialize({"N": "NaN"}))
    with pytest.raises(DecodeError):
        deserialize({"N": "NaN"})
