"""Hardening of the codec (issue 11): on any input, ``deserialize``, ``deserialize_image``,
``serialize`` and ``serialize_image`` return or raise a ``DDBStreamError``, in bounded time,
without changing their argument; numbers at and beyond DynamoDB's limits are rejected or
round-trip exactly, whatever their exponent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import (
    DDBStreamError,
    DecodeError,
    EncodeError,
    deserialize,
    deserialize_image,
    serialize,
    serialize_image,
)

from ._bounds import call_bounded
from ._json_like import deep_value, json_like, number_texts


@given(json_like)
def test_deserialize_any_json(value: Any) -> None:
    call_bounded(deserialize, value)


@given(st.dictionaries(st.text(max_size=8), json_like, max_size=5) | json_like)
def test_deserialize_image_any_json(value: Any) -> None:
    call_bounded(deserialize_image, value)


@given(json_like)
def test_serialize_any_python_value(value: Any) -> None:
    call_bounded(serialize, value)
    if isinstance(value, dict):
        call_bounded(serialize_image, value)


@given(number_texts)
def test_numbers_are_rejected_or_round_trip_exactly(text: str) -> None:
    decoded = call_bounded(deserialize, {"N": text})
    if isinstance(decoded, DDBStreamError):
        return
    encoded = call_bounded(serialize, decoded)
    assert not isinstance(encoded, DDBStreamError), encoded
    assert deserialize(encoded) == decoded == Decimal(text)


@given(
    st.builds(
        Decimal,
        st.tuples(
            st.sampled_from([0, 1]),
            st.lists(st.integers(0, 9), min_size=1, max_size=60).map(tuple),
            st.integers(-(10**17), 10**17),  # any exponent a Decimal can have
        ),
    )
)
def test_any_decimal_is_rejected_or_round_trips(value: Decimal) -> None:
    encoded = call_bounded(serialize, value)
    if isinstance(encoded, DDBStreamError):
        assert isinstance(encoded, EncodeError)
        return
    assert deserialize(encoded) == value


@pytest.mark.parametrize("exponent", [-(10**9), -(10**17), 10**9, 10**17])
def test_a_zero_with_an_enormous_exponent_stays_small(exponent: int) -> None:
    """Issue 11: ``serialize`` of such a zero used to expand the exponent (MemoryError)."""
    text = f"0E{exponent:+d}"
    assert call_bounded(serialize, call_bounded(deserialize, {"N": text})) == {"N": "0"}


@pytest.mark.parametrize("text", ["1E+9999999999999999999", "-1E-9999999999999999999"])
def test_an_exponent_beyond_any_number_is_a_decode_error(text: str) -> None:
    assert isinstance(call_bounded(deserialize, {"N": text}), DecodeError)


@pytest.mark.parametrize("kind", ["M", "L", "list"])
def test_values_nested_far_beyond_the_recursion_limit_are_decode_errors(kind: str) -> None:
    value = deep_value(100_000, kind)
    with pytest.raises(DecodeError) as info:
        deserialize(value)
    assert len(str(info.value)) < 500


def test_messages_quote_huge_values_briefly() -> None:
    for bad in ({"S": 10**5000}, {"N": "1" * 100_000}, {"B": "x" * 100_001}, {"SS": [[]] * 10}):
        with pytest.raises(DecodeError) as info:
            deserialize(bad)
        assert len(str(info.value)) < 500
