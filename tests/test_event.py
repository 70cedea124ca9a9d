"""StreamEvent: every envelope (Lambda, Kinesis, Pipes, GetRecords) parsed once, records or
what failed to parse in their place (``entries``), the tumbling window, and the deprecated window
properties."""

from __future__ import annotations

import base64
import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import ddbstream._image as image_module
from _boto3_shapes import as_get_records
from ddbstream import DecodeError, EventName, StreamEvent, UnparsedRecord, Window
from ddbstream.testing import (
    EventBuilder,
    insert,
    kinesis_event,
    lambda_event,
    modify,
    pipes_event,
    remove,
    tumbling_window_event,
)
from ddbstream.testing.strategies import lambda_events

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
INVOICE = {"InvoiceNumber": "I1", "TransactionId": "T1", "Amount": Decimal("12.5")}
KEYS = ("InvoiceNumber", "TransactionId")


def _history() -> list[dict[str, Any]]:
    changed = {**INVOICE, "Amount": Decimal("20")}
    return [
        insert(INVOICE, keys=KEYS),
        modify(INVOICE, changed, keys=KEYS),
        remove(changed, keys=KEYS, ttl=True),
    ]


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
    response = {"Records": [as_get_records(r) for r in event["Records"]]}
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
    response = {"Records": [as_get_records(r) for r in event["Records"]]}
    converted = StreamEvent.from_get_records(response, arn)
    assert [dict(r.lambda_record) for r in converted] == event["Records"]


def test_parse_rejects_what_is_not_an_event() -> None:
    for bad in (None, 3, "x", {"Records": "no"}):
        with pytest.raises(DecodeError):
            StreamEvent.parse(bad)
    with pytest.raises(DecodeError):
        StreamEvent.from_lambda({"records": []})


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
    real_decode = image_module.decode_attribute

    def counting(av: Any, depth: int) -> Any:
        calls.append(av)
        return real_decode(av, depth)

    monkeypatch.setattr(image_module, "decode_attribute", counting)
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


def test_deeply_nested_kinesis_data_is_a_decode_error() -> None:
    event = kinesis_event(insert({"pk": "a"}))
    nested = b"[" * 100_000 + b"]" * 100_000
    event["Records"][0]["kinesis"]["data"] = base64.b64encode(nested).decode()
    with pytest.raises(DecodeError) as info:
        StreamEvent.from_kinesis(event).records  # noqa: B018
    assert info.value.path == ("Records", 0, "kinesis", "data")


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


# -- entries: parsed once, failures in place ------------------------------------------------


@pytest.mark.parametrize("envelope", ["lambda", "pipes", "kinesis"])
def test_entries_are_the_records_when_all_parse(envelope: str) -> None:
    make = {"lambda": lambda_event, "pipes": pipes_event, "kinesis": kinesis_event}[envelope]
    event = StreamEvent.parse(make(insert({"pk": "a"}), remove({"pk": "b"})))
    assert event.entries() == event.records
    assert event.entries() is event.entries(), "parsed once"


def test_a_record_that_does_not_parse_but_can_be_named_is_unparsed_in_place() -> None:
    kinesis = kinesis_event(insert({"pk": "a"}), insert({"pk": "b"}))
    kinesis["Records"][0]["kinesis"]["data"] = "%%%"
    first, second = StreamEvent.parse(kinesis).entries()
    assert isinstance(first, UnparsedRecord)
    assert first.index == 0
    assert first.item_identifier == kinesis["Records"][0]["kinesis"]["sequenceNumber"]
    assert first.raw is kinesis["Records"][0]
    assert first.error.path == ("Records", 0, "kinesis", "data")
    assert not isinstance(second, UnparsedRecord)


def test_a_record_that_cannot_be_named_fails_the_whole_batch() -> None:
    event = pipes_event(insert({"pk": "a"}), insert({"pk": "b"}))
    event[1]["eventID"] = ""
    with pytest.raises(DecodeError, match="whole batch") as info:
        StreamEvent.parse(event).entries()
    assert info.value.path[:2] == ("Records", 1)


# -- the tumbling window: one API -----------------------------------------------------------


def test_the_tumbling_window_is_a_window_value() -> None:
    start = dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc)
    raw = tumbling_window_event(
        [insert({"pk": "a"})], start=start, end=start + dt.timedelta(minutes=5), state={"n": 1}
    )
    window = StreamEvent.parse(raw).tumbling_window
    assert window == Window(
        start=start,
        end=start + dt.timedelta(minutes=5),
        shard_id=raw["shardId"],
        state={"n": 1},
        is_final_invoke=False,
        is_terminated_early=False,
    )
    assert StreamEvent.parse(lambda_event()).tumbling_window is None
    assert StreamEvent.parse(pipes_event()).tumbling_window is None


def test_the_old_window_properties_are_deprecated_aliases() -> None:
    start = dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(minutes=5)
    raw = tumbling_window_event([], start=start, end=end, state={"n": 1}, final=True)
    event = StreamEvent.parse(raw)
    window = event.tumbling_window
    assert window is not None
    old = {
        "window": (start, end),
        "state": {"n": 1},
        "shard_id": window.shard_id,
        "is_tumbling_window": True,
        "is_final_invoke_for_window": True,
        "is_window_terminated_early": False,
    }
    for name, value in old.items():
        with pytest.warns(DeprecationWarning, match=f"StreamEvent.{name} is deprecated"):
            assert getattr(event, name) == value
    with pytest.warns(DeprecationWarning, match="event.tumbling_window"):
        assert Window.from_event(event) == window


def test_a_typed_event_builds_typed_records() -> None:
    from pydantic import BaseModel

    class Item(BaseModel):
        pk: str

    event = StreamEvent.from_lambda(lambda_event(insert({"pk": "a"})), model=Item)
    assert event.records[0].require_new() == Item(pk="a")
    assert event.records[0].model is Item
