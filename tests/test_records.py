"""StreamEvent / StreamRecord / Image over every envelope, built with ddbstream.testing."""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from typing_extensions import TypedDict

import ddbstream._image as image_module
from ddbstream import (
    DecodeError,
    EventName,
    Image,
    ImageValidationError,
    StreamEvent,
    StreamRecord,
    UsageError,
    deserialize,
)
from ddbstream.testing import (
    EventBuilder,
    insert,
    kinesis_event,
    lambda_event,
    modify,
    pipes_event,
    remove,
)
from ddbstream.testing.strategies import lambda_events

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INVOICE = {"InvoiceNumber": "I1", "TransactionId": "T1", "Amount": Decimal("12.5")}
KEYS = ("InvoiceNumber", "TransactionId")


class InvoiceModel(BaseModel):
    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal


@dataclasses.dataclass
class InvoiceData:
    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal


class InvoiceDict(TypedDict):
    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal


def _history() -> list[dict[str, Any]]:
    changed = {**INVOICE, "Amount": Decimal("20")}
    return [
        insert(INVOICE, keys=KEYS),
        modify(INVOICE, changed, keys=KEYS),
        remove(changed, keys=KEYS, ttl=True),
    ]


def _boto3_value(av: dict[str, Any]) -> dict[str, Any]:
    ((tag, value),) = av.items()
    if tag == "B":
        return {"B": base64.b64decode(value)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in value]}
    if tag == "M":
        return {"M": {k: _boto3_value(v) for k, v in value.items()}}
    if tag == "L":
        return {"L": [_boto3_value(v) for v in value]}
    return av


def _as_get_records(record: dict[str, Any]) -> dict[str, Any]:
    """The record as boto3's dynamodbstreams.get_records returns it."""
    ddb = record["dynamodb"]
    out_ddb: dict[str, Any] = {}
    for field, value in ddb.items():
        if field == "ApproximateCreationDateTime":
            out_ddb[field] = dt.datetime.fromtimestamp(value, tz=dt.timezone(dt.timedelta(hours=2)))
        elif field in ("Keys", "NewImage", "OldImage"):
            out_ddb[field] = {k: _boto3_value(v) for k, v in value.items()}
        else:
            out_ddb[field] = value
    out = {k: record[k] for k in ("eventID", "eventName", "eventVersion", "eventSource")}
    out["awsRegion"] = record["awsRegion"]
    if "userIdentity" in record:
        identity = record["userIdentity"]
        out["userIdentity"] = {"PrincipalId": identity["principalId"], "Type": identity["type"]}
    out["dynamodb"] = out_ddb
    return out


# -- envelopes ----------------------------------------------------------------------------


def test_lambda_envelope() -> None:
    event = lambda_event(*_history())
    original = copy.deepcopy(event)
    parsed = StreamEvent.from_lambda(event)
    assert parsed.envelope == "lambda"
    assert len(parsed) == 3
    assert parsed.raw is event
    first, second, third = parsed
    assert [r.event_name for r in parsed] == [EventName.INSERT, EventName.MODIFY, EventName.REMOVE]
    assert first.keys == {"InvoiceNumber": "I1", "TransactionId": "T1"}
    assert first.new_image is not None
    assert first.new_image["Amount"] == Decimal("12.5")
    assert first.old_image is None
    assert second.old_image == first.new_image
    assert third.new_image is None
    assert third.is_ttl_delete
    assert not second.is_ttl_delete
    assert first.item_key == second.item_key == third.item_key
    assert [r.item_identifier for r in parsed] == [r.sequence_number for r in parsed]
    assert first.lambda_record is event["Records"][0]
    assert first.event_source_arn == event["Records"][0]["eventSourceARN"]
    assert first.size_bytes == event["Records"][0]["dynamodb"]["SizeBytes"]
    for record in parsed:
        record.keys.to_dict()
    assert event == original, "parsing mutated the caller's event"


def test_pipes_envelope_reports_event_ids() -> None:
    event = pipes_event(*_history())
    parsed = StreamEvent.parse(event)
    assert parsed.envelope == "pipes"
    assert [r.item_identifier for r in parsed] == [r["eventID"] for r in event]
    assert [r.event_name.value for r in parsed] == ["INSERT", "MODIFY", "REMOVE"]


@pytest.mark.parametrize("precision", ["MILLISECOND", "MICROSECOND"])
def test_kinesis_envelope_matches_the_lambda_one(precision: str) -> None:
    plain = lambda_event(*_history())
    event = kinesis_event(*plain["Records"], precision=precision)  # type: ignore[arg-type]
    parsed = StreamEvent.parse(event)
    assert parsed.envelope == "kinesis"
    for got, want in zip(parsed, StreamEvent.from_lambda(plain), strict=True):
        assert got.event_name == want.event_name
        assert got.keys == want.keys
        assert got.new_image == want.new_image
        assert got.old_image == want.old_image
        assert got.approximate_creation_time == want.approximate_creation_time
        assert got.is_ttl_delete == want.is_ttl_delete
        assert got.table_name == want.table_name == "Table"
        assert got.stream_view_type is None
        assert got.event_source == "aws:dynamodb"
    records = event["Records"]
    assert [r.item_identifier for r in parsed] == [r["kinesis"]["sequenceNumber"] for r in records]
    assert parsed.records[0].raw is records[0]
    assert parsed.records[0].event_source_arn == records[0]["eventSourceARN"]


def test_get_records_envelope_gives_the_lambda_records() -> None:
    event = lambda_event(*_history(), insert({"pk": "b", "raw": b"\x00\xff", "bs": {b"x"}}))
    response = {"Records": [_as_get_records(r) for r in event["Records"]]}
    arn = event["Records"][0]["eventSourceARN"]
    parsed = StreamEvent.from_get_records(response, arn)
    assert parsed.envelope == "lambda"
    assert [dict(r.lambda_record) for r in parsed] == event["Records"]
    assert parsed.records[3].new_image is not None
    assert parsed.records[3].new_image["raw"] == b"\x00\xff"


@SETTINGS
@given(lambda_events(max_size=4))
def test_get_records_conversion_is_exact(event: dict[str, Any]) -> None:
    arn = event["Records"][0]["eventSourceARN"]
    response = {"Records": [_as_get_records(r) for r in event["Records"]]}
    converted = StreamEvent.from_get_records(response, arn)
    assert [dict(r.lambda_record) for r in converted] == event["Records"]


@SETTINGS
@given(lambda_events(max_size=5))
def test_record_fields_mirror_the_raw_record(event: dict[str, Any]) -> None:
    for record, raw in zip(StreamEvent.from_lambda(event), event["Records"], strict=True):
        ddb = raw["dynamodb"]
        assert record.event_id == raw["eventID"]
        assert record.event_name.value == raw["eventName"]
        assert record.sequence_number == ddb["SequenceNumber"]
        assert record.stream_view_type is not None
        assert record.stream_view_type.value == ddb["StreamViewType"]
        assert record.aws_region == raw["awsRegion"]
        assert record.approximate_creation_time is not None
        assert record.approximate_creation_time.timestamp() == ddb["ApproximateCreationDateTime"]
        assert (record.new_image is None) == ("NewImage" not in ddb)
        assert (record.old_image is None) == ("OldImage" not in ddb)
        if record.new_image is not None:
            assert record.new_image.raw == ddb["NewImage"]


def test_parse_rejects_what_is_not_an_event() -> None:
    for bad in (None, 3, "x", {"Records": "no"}):
        with pytest.raises(DecodeError):
            StreamEvent.parse(bad)
    with pytest.raises(DecodeError):
        StreamEvent.from_lambda({"records": []})


# -- laziness -----------------------------------------------------------------------------


def test_ten_thousand_records_decode_nothing_until_accessed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder = EventBuilder("Big")
    event = builder.lambda_event(
        *(builder.insert({"pk": f"k{i}", "n": i, "doc": {"a": [i]}}) for i in range(10_000))
    )
    bad = event["Records"][9_999]
    bad["dynamodb"]["NewImage"]["n"] = {"N": "not a number"}
    calls = []
    real_decode = image_module.deserialize

    def counting(av: Any) -> Any:
        calls.append(av)
        return real_decode(av)

    monkeypatch.setattr(image_module, "deserialize", counting)
    parsed = StreamEvent.from_lambda(event)
    records = parsed.records
    assert len(records) == 10_000
    last = records[-1]
    assert last.new_image is not None
    assert calls == [], "building the event decoded attributes"
    first = records[0].new_image
    assert first is not None
    assert first["n"] == 0
    assert calls == [{"N": "0"}], "reading one attribute decoded others"
    with pytest.raises(DecodeError) as info:
        last.new_image["n"]
    error = info.value
    assert error.event_id == bad["eventID"]
    assert error.sequence_number == bad["dynamodb"]["SequenceNumber"]
    assert error.path == ("NewImage", "n")
    assert bad["eventID"] in str(error)
    assert "NewImage.n" in str(error)


def test_image_caches_and_keeps_raw() -> None:
    record = StreamEvent.from_lambda(lambda_event(insert({"pk": "a", "tags": {"x", "y"}}))).records[
        0
    ]
    image = record.new_image
    assert isinstance(image, Image)
    assert image["tags"] is image["tags"]
    assert image.descriptor("tags") == {"SS": ["x", "y"]}
    assert dict(image.raw) == {"pk": {"S": "a"}, "tags": {"SS": ["x", "y"]}}
    assert image.to_dict() == {"pk": "a", "tags": {"x", "y"}}
    with pytest.raises(TypeError):
        image.raw["pk"] = {"S": "b"}  # type: ignore[index]


def test_decode_errors_name_nested_paths() -> None:
    raw = lambda_event(insert({"pk": "a", "items": [{"qty": 1}] * 4}))["Records"][0]
    raw["dynamodb"]["NewImage"]["items"]["L"][3]["M"]["qty"] = {"N": "1e999"}
    record = StreamEvent.from_lambda({"Records": [raw]}).records[0]
    assert record.new_image is not None
    with pytest.raises(DecodeError) as info:
        record.new_image.to_dict()
    assert info.value.path == ("NewImage", "items", 3, "qty")
    assert info.value.event_id == raw["eventID"]
    assert "NewImage.items[3].qty" in str(info.value)


def test_record_level_errors_name_the_record() -> None:
    raw = lambda_event(insert({"pk": "a"}))["Records"][0]
    bad_seq = {**raw, "dynamodb": {**raw["dynamodb"], "SequenceNumber": "12a"}}
    with pytest.raises(DecodeError) as info:
        StreamEvent.from_lambda({"Records": [bad_seq]}).records  # noqa: B018
    assert info.value.event_id == raw["eventID"]
    assert info.value.path == ("dynamodb", "SequenceNumber")
    bad_name = {**raw, "eventName": "UPSERT"}
    record = StreamEvent.from_lambda({"Records": [bad_name]}).records[0]
    with pytest.raises(DecodeError) as info:
        record.event_name  # noqa: B018
    assert info.value.path == ("eventName",)
    assert info.value.sequence_number == raw["dynamodb"]["SequenceNumber"]


# -- typed binding ------------------------------------------------------------------------


@pytest.mark.parametrize("model", [InvoiceModel, InvoiceData, InvoiceDict])
def test_typed_binding(model: type) -> None:
    event = StreamEvent.from_lambda(lambda_event(*_history()), model=model)
    first, second, third = event
    assert first.model is model
    new = first.new
    if model is InvoiceDict:
        assert new == INVOICE
    else:
        assert isinstance(new, model)
        assert new.Amount == Decimal("12.5")  # type: ignore[attr-defined]
    assert first.old is None
    assert second.old == first.new
    assert third.new is None
    unbound = StreamEvent.from_lambda(lambda_event(*_history())).records[0]
    assert unbound.new is unbound.new_image
    assert unbound.bind(model).new == new


def test_validation_errors_name_the_record_and_attribute() -> None:
    raw = lambda_event(insert({"InvoiceNumber": "I1", "TransactionId": "T", "Amount": "x"}))
    record = StreamEvent.from_lambda(raw, model=InvoiceModel).records[0]
    with pytest.raises(ImageValidationError) as info:
        record.new  # noqa: B018
    assert info.value.path[:2] == ("NewImage", "Amount")
    assert info.value.event_id == raw["Records"][0]["eventID"]
    assert info.value.sequence_number == raw["Records"][0]["dynamodb"]["SequenceNumber"]


# -- changed_attributes -------------------------------------------------------------------


def _record(raw: dict[str, Any]) -> StreamRecord[Any]:
    return StreamEvent.from_lambda(lambda_event(raw)).records[0]


def test_changed_attributes() -> None:
    old = {"pk": "a", "n": 1, "gone": "x", "same": [1, {"b": b"x"}]}
    new = {"pk": "a", "n": 2, "added": True, "same": [1, {"b": b"x"}]}
    assert _record(modify(old, new)).changed_attributes() == {"n", "gone", "added"}
    assert _record(insert(new)).changed_attributes() == set(new)
    assert _record(remove(old)).changed_attributes() == set(old)
    with pytest.raises(UsageError, match="NEW_AND_OLD_IMAGES"):
        _record(modify(old, new, view_type="NEW_IMAGE")).changed_attributes()


def test_changed_attributes_ignores_number_spelling() -> None:
    raw = modify({"pk": "a", "n": 1}, {"pk": "a", "n": 1, "m": 2})
    raw["dynamodb"]["OldImage"]["n"] = {"N": "1.0"}
    assert _record(raw).changed_attributes() == {"m"}


def test_changed_attributes_sees_type_changes() -> None:
    old = {"pk": "a", "flag": 1, "flags": [0]}
    new = {"pk": "a", "flag": True, "flags": [False]}
    assert _record(modify(old, new)).changed_attributes() == {"flag", "flags"}


@pytest.mark.parametrize("value", [1e20, float("nan"), float("inf"), -1e20])
def test_bad_creation_time_is_a_decode_error(value: float) -> None:
    event = lambda_event(insert({"pk": "a"}))
    event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] = value
    record = StreamEvent.from_lambda(event).records[0]
    with pytest.raises(DecodeError) as info:
        record.approximate_creation_time  # noqa: B018
    assert info.value.path == ("dynamodb", "ApproximateCreationDateTime")
    assert info.value.event_id == event["Records"][0]["eventID"]


def test_deeply_nested_kinesis_data_is_a_decode_error() -> None:
    event = kinesis_event(insert({"pk": "a"}))
    nested = b"[" * 100_000 + b"]" * 100_000
    event["Records"][0]["kinesis"]["data"] = base64.b64encode(nested).decode()
    with pytest.raises(DecodeError) as info:
        StreamEvent.from_kinesis(event).records  # noqa: B018
    assert info.value.path == ("Records", 0, "kinesis", "data")


def test_image_equality_is_by_value_and_type() -> None:
    from ddbstream import Image

    one = Image({"n": {"N": "1"}})
    assert one == Image({"n": {"N": "1.0"}})
    assert hash(one) == hash(Image({"n": {"N": "1.0"}}))
    assert one != Image({"n": {"BOOL": True}})
    assert one != Image({"n": {"N": "2"}})
    assert one != Image({"n": {"N": "1"}, "m": {"S": "x"}})


@pytest.mark.parametrize(
    "sequence_number", ["", "12a", "١٢٣", None, 12, "1" * 41 + "x", " 12", "12\n"]
)
def test_bad_sequence_numbers_are_found_before_any_record_is_built(sequence_number: Any) -> None:
    event = lambda_event(insert({"pk": "a"}), insert({"pk": "b"}), insert({"pk": "c"}))
    event["Records"][1]["dynamodb"]["SequenceNumber"] = sequence_number
    with pytest.raises(DecodeError) as info:
        StreamEvent.from_lambda(event).records  # noqa: B018
    assert info.value.event_id == event["Records"][1]["eventID"]
    assert info.value.path == ("dynamodb", "SequenceNumber")


def test_the_number_cache_is_bounded_and_exact() -> None:
    from ddbstream import _codec

    for i in range(10_000):
        assert deserialize({"N": f"{i}.5"}) == Decimal(f"{i}.5")
    assert len(_codec._NUMBERS) <= _codec._NUMBERS_MAX
    assert deserialize({"N": "1.50"}) == Decimal("1.50")
    assert str(deserialize({"N": "1.50"})) == "1.50"  # cached by text: the spelling is kept
