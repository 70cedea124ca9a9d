"""The hypothesis strategies draw only what DynamoDB could hold and Lambda could deliver."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import TypedDict

from ddbstream import (
    StreamEvent,
    StreamRecord,
    UsageError,
    deserialize,
    deserialize_image,
    serialize,
)
from ddbstream.testing.strategies import (
    attribute_values,
    images,
    items,
    kinesis_events,
    lambda_events,
    pipes_events,
    python_values,
    stream_records,
)

# DynamoDB's stored spelling: plain notation, no leading zeros, no trailing fraction zeros.
CANONICAL_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _walk(av: dict[str, Any], depth: int = 0) -> int:
    """Check one descriptor against DynamoDB's rules; return its nesting depth."""
    assert len(av) == 1
    ((tag, value),) = av.items()
    if tag == "N":
        _check_number(value)
    elif tag == "NS":
        assert value
        for v in value:
            _check_number(v)
        assert len(set(value)) == len(value)
    elif tag in ("SS", "BS"):
        assert value
        assert len(set(value)) == len(value)
    if tag in ("B", "BS"):
        for text in [value] if tag == "B" else value:
            assert base64.b64encode(base64.b64decode(text, validate=True)).decode() == text
    if tag == "M":
        assert all(isinstance(k, str) and k for k in value)
        return max([_walk(v, depth + 1) for v in value.values()], default=depth + 1)
    if tag == "L":
        return max([_walk(v, depth + 1) for v in value], default=depth + 1)
    return depth


def _check_number(text: str) -> None:
    assert CANONICAL_NUMBER.fullmatch(text), text
    assert text != "-0"
    number = Decimal(text)
    if number:
        digits = number.normalize(context=None).as_tuple().digits if len(text) < 28 else None
        significant = len(text.replace("-", "").replace(".", "").strip("0"))
        assert significant <= 38, text
        assert -130 <= number.adjusted() <= 125, text
        assert digits is None or len(digits) <= 38


@SETTINGS
@given(attribute_values())
def test_attribute_values_obey_dynamodb_rules_and_decode(av: dict[str, Any]) -> None:
    assert _walk(av) <= 3
    value = deserialize(av)
    assert deserialize(serialize(value)) == value
    assert json.loads(json.dumps(av)) == av  # plain JSON, as Lambda delivers it


@SETTINGS
@given(attribute_values(max_depth=1, types=("N", "L")))
def test_types_and_depth_are_respected(av: dict[str, Any]) -> None:
    assert _walk(av) <= 1
    assert set(av) <= {"N", "L"}
    if "L" in av:
        assert all(set(child) <= {"N", "L"} for child in av["L"])


@SETTINGS
@given(attribute_values(max_depth=0, types=("NS", "SS", "BS")))
def test_sets_are_non_empty_and_unique(av: dict[str, Any]) -> None:
    ((tag, members),) = av.items()
    assert tag in ("NS", "SS", "BS")
    assert members
    assert len(deserialize(av)) == len(members)


@SETTINGS
@given(python_values())
def test_python_values_round_trip(value: Any) -> None:
    assert deserialize(serialize(value)) == value


@SETTINGS
@given(images(key_schema={"PK": "S", "SK": "N"}), items(key_schema={"id": "B"}))
def test_images_and_items_hold_their_keys(image: dict[str, Any], item: dict[str, Any]) -> None:
    assert set(image["PK"]) == {"S"}
    assert image["PK"]["S"]
    assert set(image["SK"]) == {"N"}
    for av in image.values():
        _walk(av)
    deserialize_image(image)
    assert isinstance(item["id"], bytes)
    assert item["id"]
    assert deserialize_image({k: serialize(v) for k, v in item.items()}) == item


@pytest.mark.parametrize("view_type", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
def test_stream_records_are_consistent_with_their_view_type(view_type: str) -> None:
    @SETTINGS
    @given(stream_records(view_type=view_type))
    def check(raw: dict[str, Any]) -> None:
        ddb = raw["dynamodb"]
        name = raw["eventName"]
        assert ddb["StreamViewType"] == view_type
        assert re.fullmatch(r"[1-9][0-9]{20,39}", ddb["SequenceNumber"])
        assert re.fullmatch(r"[0-9a-f]{32}", raw["eventID"])
        has_new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and name != "REMOVE"
        has_old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and name != "INSERT"
        assert ("NewImage" in ddb) == has_new
        assert ("OldImage" in ddb) == has_old
        for image in (ddb.get("NewImage"), ddb.get("OldImage")):
            if image is not None:
                assert {k: image[k] for k in ddb["Keys"]} == ddb["Keys"]
        if "userIdentity" in raw:
            assert name == "REMOVE"
        if name == "MODIFY" and has_new and has_old:
            assert ddb["NewImage"] != ddb["OldImage"]
        record = StreamRecord(raw)
        assert record.sequence_number == ddb["SequenceNumber"]
        assert record.keys.to_dict() == deserialize_image(ddb["Keys"])
        for image in (record.new_image, record.old_image):
            if image is not None:
                image.to_dict()
        assert record.is_ttl_delete == ("userIdentity" in raw)
        assert record.table_name is not None

    check()


@SETTINGS
@given(stream_records(event_names={"REMOVE"}, key_schema={"a": "N", "b": "S"}))
def test_event_names_and_key_schema_options(raw: dict[str, Any]) -> None:
    assert raw["eventName"] == "REMOVE"
    assert set(raw["dynamodb"]["Keys"]) == {"a", "b"}


def _assert_one_shard(records: list[dict[str, Any]]) -> None:
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert len({r["eventID"] for r in records}) == len(records)
    assert len({r["eventSourceARN"] for r in records}) == 1
    assert len({r["dynamodb"]["StreamViewType"] for r in records}) == 1


@SETTINGS
@given(lambda_events(max_size=5))
def test_lambda_events_parse_and_decode(event: dict[str, Any]) -> None:
    records = event["Records"]
    assert 1 <= len(records) <= 5
    _assert_one_shard(records)
    parsed = StreamEvent.parse(event)
    assert parsed.envelope == "lambda"
    for record, raw in zip(parsed, records, strict=True):
        assert record.item_identifier == raw["dynamodb"]["SequenceNumber"]
        for image in (record.keys, record.new_image, record.old_image):
            if image is not None:
                image.to_dict()


@SETTINGS
@given(pipes_events(min_size=0, max_size=4))
def test_pipes_events_are_bare_lists(event: list[dict[str, Any]]) -> None:
    assert isinstance(event, list)
    if event:
        _assert_one_shard(event)
    parsed = StreamEvent.parse(event)
    assert parsed.envelope == "pipes"
    assert [r.item_identifier for r in parsed] == [r["eventID"] for r in event]


@SETTINGS
@given(kinesis_events(max_size=4))
def test_kinesis_events_carry_kds_change_records(event: dict[str, Any]) -> None:
    parsed = StreamEvent.parse(event)
    assert parsed.envelope == "kinesis"
    for record, raw in zip(parsed, event["Records"], strict=True):
        change = json.loads(base64.b64decode(raw["kinesis"]["data"]))
        assert "SequenceNumber" not in change["dynamodb"]
        assert "StreamViewType" not in change["dynamodb"]
        assert isinstance(change["dynamodb"]["ApproximateCreationDateTime"], int)
        assert record.stream_view_type is None
        assert record.item_identifier == raw["kinesis"]["sequenceNumber"]
        assert record.approximate_creation_time is not None
        assert 2014 <= record.approximate_creation_time.year <= 2037
        if record.new_image is not None:
            record.new_image.to_dict()


@SETTINGS
@given(st.from_type(StreamRecord))
def test_from_type_stream_record(record: StreamRecord[Any]) -> None:
    assert isinstance(record, StreamRecord)
    record.keys.to_dict()


@dataclasses.dataclass
class Invoice:
    InvoiceNumber: str
    Amount: Decimal


class Score(TypedDict):
    PK: str
    Score: int


@pytest.mark.parametrize("model", [Invoice, Score])
def test_from_type_stream_record_of_a_model(model: type) -> None:
    @SETTINGS
    @given(st.from_type(StreamRecord[model]))  # type: ignore[valid-type]
    def check(record: StreamRecord[Any]) -> None:
        assert record.model is model
        for typed in (record.new, record.old):
            if typed is None:
                continue
            if model is Invoice:
                assert isinstance(typed, Invoice)
                assert isinstance(typed.Amount, Decimal)
            else:
                assert set(typed) == {"PK", "Score"}

    check()


def test_strategies_repr_as_their_call() -> None:
    assert repr(attribute_values()) == "attribute_values()"
    assert repr(attribute_values(max_depth=1)) == "attribute_values(max_depth=1)"
    assert repr(stream_records(view_type="KEYS_ONLY")) == "stream_records(view_type='KEYS_ONLY')"


@pytest.mark.parametrize(
    "strategy",
    [
        attribute_values(types=("X",)),
        attribute_values(types=()),
        attribute_values(max_depth=33),
        attribute_values(max_depth=0, types=("M",)),
        images(key_schema={"pk": "BOOL"}),
        images(key_schema={}),
        stream_records(view_type="ALL"),
        stream_records(event_names={"UPSERT"}),
        lambda_events(min_size=3, max_size=1),
    ],
)
def test_bad_options_raise_usage_error(strategy: st.SearchStrategy[Any]) -> None:
    @given(strategy)
    def draw(value: Any) -> None:
        raise AssertionError("unreachable")

    with pytest.raises(UsageError):
        draw()


def test_importing_the_kit_loads_no_heavy_modules() -> None:
    code = (
        "import sys, ddbstream.testing as t\n"
        "t.insert, t.lambda_event, t.FakeLambdaContext, t.EventBuilder\n"
        "heavy = {'hypothesis', 'boto3', 'botocore', 'pytest', 'pydantic'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_exports_resolve() -> None:
    import ddbstream.testing as kit

    for name in kit.__all__:
        assert getattr(kit, name) is not None, name
    assert kit.strategies.stream_records is stream_records
    with pytest.raises(AttributeError):
        kit.no_such_name  # noqa: B018
