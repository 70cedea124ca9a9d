"""The event builder: records from plain items, Lambda / Pipes / Kinesis / tumbling-window
envelopes, and the FakeLambdaContext."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import importlib.util
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from ddbstream import EncodeError, EventName, StreamEvent, StreamViewType, UsageError
from ddbstream.testing import (
    EventBuilder,
    FakeLambdaContext,
    insert,
    kinesis_event,
    lambda_event,
    modify,
    pipes_event,
    remove,
    tumbling_window_event,
)
from ddbstream.testing._events import dynamodb_number_text

AWS_KEY_ORDER = [
    "eventID",
    "eventName",
    "eventVersion",
    "eventSource",
    "awsRegion",
    "dynamodb",
    "eventSourceARN",
]


def _kinesis_change(record: dict) -> dict:
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


# -- records ------------------------------------------------------------------------------


def test_insert_serializes_the_item_and_infers_the_key() -> None:
    record = insert({"pk": "a", "sk": 1, "qty": Decimal("1.50"), "raw": b"hi", "tags": {"x"}})
    ddb = record["dynamodb"]
    assert record["eventName"] == "INSERT"
    assert ddb["Keys"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert ddb["NewImage"]["qty"] == {"N": "1.5"}  # stored as DynamoDB normalises it
    assert ddb["NewImage"]["raw"] == {"B": "aGk="}
    assert ddb["NewImage"]["tags"] == {"SS": ["x"]}
    assert "OldImage" not in ddb
    assert ddb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert ddb["SizeBytes"] >= 1


@pytest.mark.parametrize(
    ("item", "keys"),
    [
        ({"PK": "USER#1", "SK": "TOTAL", "n": 1}, {"PK", "SK"}),
        ({"id": "x", "n": 1}, {"id"}),
        ({"n": 1, "pk": "p"}, {"pk"}),
    ],
)
def test_key_inference(item: dict, keys: set[str]) -> None:
    assert set(insert(item)["dynamodb"]["Keys"]) == keys


def test_explicit_keys_and_missing_keys() -> None:
    record = insert({"InvoiceNumber": "I1", "TransactionId": "T1"}, keys=("InvoiceNumber",))
    assert record["dynamodb"]["Keys"] == {"InvoiceNumber": {"S": "I1"}}
    with pytest.raises(UsageError, match="TransactionId"):
        insert({"InvoiceNumber": "I1"}, keys=("InvoiceNumber", "TransactionId"))
    with pytest.raises(UsageError):
        insert({})


def test_unstorable_values_raise_encode_error() -> None:
    with pytest.raises(EncodeError, match="float"):
        insert({"pk": "a", "price": 1.5})
    with pytest.raises(EncodeError, match="empty set"):
        insert({"pk": "a", "tags": set()})


def test_modify_carries_both_images_and_checks_the_key() -> None:
    record = modify({"pk": "a", "n": 1}, {"pk": "a", "n": 2})
    assert record["dynamodb"]["OldImage"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "2"}}
    with pytest.raises(UsageError, match="same key"):
        modify({"pk": "a"}, {"pk": "b"})


def test_remove_and_ttl_remove() -> None:
    plain = remove({"pk": "a", "n": 1})
    assert "NewImage" not in plain["dynamodb"]
    assert plain["dynamodb"]["OldImage"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert "userIdentity" not in plain
    expired = remove({"pk": "a"}, ttl=True)
    assert expired["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    record = StreamEvent.from_lambda(lambda_event(expired, plain)).records
    assert [r.is_ttl_delete for r in record] == [True, False]


@pytest.mark.parametrize(
    ("view_type", "images"),
    [
        ("KEYS_ONLY", [set(), set(), set()]),
        ("NEW_IMAGE", [{"NewImage"}, {"NewImage"}, set()]),
        ("OLD_IMAGE", [set(), {"OldImage"}, {"OldImage"}]),
        ("NEW_AND_OLD_IMAGES", [{"NewImage"}, {"NewImage", "OldImage"}, {"OldImage"}]),
    ],
)
def test_view_type_decides_the_images(view_type: str, images: list[set[str]]) -> None:
    records = [
        insert({"pk": "a"}, view_type=view_type),  # type: ignore[arg-type]
        modify({"pk": "a"}, {"pk": "a", "n": 1}, view_type=view_type),  # type: ignore[arg-type]
        remove({"pk": "a", "n": 1}, view_type=view_type),  # type: ignore[arg-type]
    ]
    got = [set(r["dynamodb"]) & {"NewImage", "OldImage"} for r in records]
    assert got == images
    assert {r["dynamodb"]["StreamViewType"] for r in records} == {view_type}
    with pytest.raises(UsageError):
        insert({"pk": "a"}, view_type="BOTH")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.50"), "1.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0"), "0"),
        (Decimal("0.000"), "0"),
        (Decimal("1E-7"), "0.0000001"),
        (10, "10"),
        (Decimal("-12.0300"), "-12.03"),
    ],
)
def test_dynamodb_number_text(value: Decimal, text: str) -> None:
    assert dynamodb_number_text(value) == text


# -- lambda / pipes events ----------------------------------------------------------------


def test_lambda_event_fills_ids_sequence_numbers_and_times_in_order() -> None:
    templates = [insert({"pk": "a"}), modify({"pk": "a"}, {"pk": "a", "n": 1}), remove({"pk": "b"})]
    before = copy.deepcopy(templates)
    event = lambda_event(*templates)
    records = event["Records"]
    assert templates == before, "the builder mutated its input"
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    assert all(21 <= len(r["dynamodb"]["SequenceNumber"]) <= 40 for r in records)
    ids = [r["eventID"] for r in records]
    assert len(set(ids)) == 3
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    times = [r["dynamodb"]["ApproximateCreationDateTime"] for r in records]
    assert times == sorted(times)
    assert all(isinstance(t, float) for t in times)
    assert list(records[0]) == AWS_KEY_ORDER
    assert list(records[1]["dynamodb"]) == [
        "ApproximateCreationDateTime",
        "Keys",
        "NewImage",
        "OldImage",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    ]
    assert records[0]["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:")
    assert lambda_event(*templates) == event, "the same records must build the same event"


def test_lambda_event_keeps_complete_records_and_accepts_a_list() -> None:
    complete = lambda_event(insert({"pk": "a"}))["Records"][0]
    complete["dynamodb"]["SequenceNumber"] = "900000000000000000000000"
    event = lambda_event([complete, insert({"pk": "b"})])
    first, second = event["Records"]
    assert first == complete
    assert int(second["dynamodb"]["SequenceNumber"]) > int(first["dynamodb"]["SequenceNumber"])
    with pytest.raises(UsageError):
        lambda_event("not a record")  # type: ignore[arg-type]


def test_lambda_event_parses_with_records_api() -> None:
    event = StreamEvent.from_lambda(
        lambda_event(insert({"pk": "a", "n": 1}), remove({"pk": "a", "n": 1}))
    )
    first, second = event.records
    assert first.event_name is EventName.INSERT
    assert second.event_name is EventName.REMOVE
    assert first.new_image == {"pk": "a", "n": Decimal(1)}
    assert second.old_image is not None
    assert second.old_image["n"] == 1
    assert first.stream_view_type is StreamViewType.NEW_AND_OLD_IMAGES
    assert first.table_name == "Table"
    assert first.aws_region == "us-east-1"
    assert first.event_version == "1.1"
    assert first.event_source == "aws:dynamodb"
    assert first.approximate_creation_time == dt.datetime(
        2024, 6, 10, 6, 13, 20, tzinfo=dt.timezone.utc
    )


def test_pipes_event_is_a_bare_list_identified_by_event_id() -> None:
    event = pipes_event(insert({"pk": "a"}))
    assert isinstance(event, list)
    assert len(event) == 1
    record = StreamEvent.parse(event).records[0]
    assert record.envelope == "pipes"
    assert record.item_identifier == event[0]["eventID"]


# -- EventBuilder -------------------------------------------------------------------------


def test_builder_stamps_records_when_built_so_redelivery_is_the_same_record() -> None:
    orders = EventBuilder("Orders", region="eu-west-1", keys=("id",))
    first = orders.insert({"id": "o1", "total": 5})
    second = orders.modify({"id": "o1", "total": 5}, {"id": "o1", "total": 7})
    once = orders.lambda_event(first, second)
    again = orders.lambda_event(second)
    assert again["Records"][0] == once["Records"][1] == second
    assert int(second["dynamodb"]["SequenceNumber"]) > int(first["dynamodb"]["SequenceNumber"])
    third = orders.remove({"id": "o1", "total": 7}, ttl=True)
    assert int(third["dynamodb"]["SequenceNumber"]) > int(second["dynamodb"]["SequenceNumber"])
    assert third["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"
    assert first["eventSourceARN"] == orders.stream_arn
    assert ":eu-west-1:" in orders.stream_arn
    assert "table/Orders/stream/" in orders.stream_arn
    assert first["awsRegion"] == "eu-west-1"


def test_builder_view_type_and_repr() -> None:
    keys_only = EventBuilder("T1", view_type="KEYS_ONLY")
    record = keys_only.modify({"pk": "a"}, {"pk": "a", "n": 1})
    assert set(record["dynamodb"]) & {"NewImage", "OldImage"} == set()
    assert repr(keys_only) == "EventBuilder('T1', view_type='KEYS_ONLY')"
    assert repr(EventBuilder()) == "EventBuilder()"
    with pytest.raises(UsageError):
        EventBuilder(view_type="ALL")  # type: ignore[arg-type]


def test_builder_counter_moves_past_given_sequence_numbers() -> None:
    builder = EventBuilder()
    late = {**insert({"pk": "a"}), "dynamodb": {**insert({"pk": "a"})["dynamodb"]}}
    late["dynamodb"]["SequenceNumber"] = "100000000000000005000"
    stamped = builder.stamp(late)
    after = builder.insert({"pk": "b"})
    assert stamped["dynamodb"]["SequenceNumber"] == "100000000000000005000"
    assert int(after["dynamodb"]["SequenceNumber"]) > 100000000000000005000


# -- Kinesis ------------------------------------------------------------------------------


@pytest.mark.parametrize(("precision", "scale"), [("MILLISECOND", 1000), ("MICROSECOND", 10**6)])
def test_kinesis_event_holds_the_kds_change_record(precision: str, scale: int) -> None:
    plain = lambda_event(insert({"pk": "a", "n": 1}), remove({"pk": "a", "n": 1}, ttl=True))
    event = kinesis_event(*plain["Records"], precision=precision)  # type: ignore[arg-type]
    outer = event["Records"][0]
    assert outer["eventSource"] == "aws:kinesis"
    assert outer["eventName"] == "aws:kinesis:record"
    assert outer["eventID"] == "shardId-000000000000:" + outer["kinesis"]["sequenceNumber"]
    assert outer["eventSourceARN"].startswith("arn:aws:kinesis:")
    change = _kinesis_change(outer)
    assert change["recordFormat"] == "application/json"
    assert change["tableName"] == "Table"
    assert change["eventSource"] == "aws:dynamodb"
    assert change["userIdentity"] is None
    assert "SequenceNumber" not in change["dynamodb"]
    assert "StreamViewType" not in change["dynamodb"]
    lambda_time = plain["Records"][0]["dynamodb"]["ApproximateCreationDateTime"]
    assert change["dynamodb"]["ApproximateCreationDateTime"] == int(lambda_time * scale)
    assert isinstance(change["dynamodb"]["ApproximateCreationDateTime"], int)
    assert ("ApproximateCreationDateTimePrecision" in change["dynamodb"]) == (scale == 10**6)
    assert len(change["eventID"]) == 36  # KDS uses UUIDs
    ttl = _kinesis_change(event["Records"][1])
    assert ttl["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    parsed = StreamEvent.parse(event)
    assert parsed.envelope == "kinesis"
    first, second = parsed.records
    assert (
        first.approximate_creation_time
        == StreamEvent.from_lambda(plain).records[0].approximate_creation_time
    )
    assert first.stream_view_type is None
    assert first.table_name == "Table"
    assert first.new_image == {"pk": "a", "n": 1}
    assert first.item_identifier == outer["kinesis"]["sequenceNumber"]
    assert second.is_ttl_delete
    seqs = [int(r["kinesis"]["sequenceNumber"]) for r in event["Records"]]
    assert seqs == sorted(seqs)


def test_kinesis_event_rejects_unknown_precision() -> None:
    with pytest.raises(UsageError):
        kinesis_event(insert({"pk": "a"}), precision="SECOND")  # type: ignore[arg-type]


# -- tumbling windows ---------------------------------------------------------------------


def test_tumbling_window_event() -> None:
    start = dt.datetime(2024, 6, 10, 6, 10, tzinfo=dt.timezone.utc)
    event = tumbling_window_event(
        [insert({"pk": "a"})],
        start=start,
        end="2024-06-10T06:15:00Z",
        state={"total": "3"},
        final=True,
    )
    assert event["window"] == {"start": "2024-06-10T06:10:00Z", "end": "2024-06-10T06:15:00Z"}
    assert event["eventSourceARN"].endswith("/stream/2024-06-10T00:00:00.000")
    window = StreamEvent.from_lambda(event).tumbling_window
    assert window is not None
    assert window.is_final_invoke
    assert not window.is_terminated_early
    assert (window.start, window.end) == (start, start + dt.timedelta(minutes=5))
    assert window.state == {"total": "3"}
    assert window.shard_id == event["shardId"]
    first = tumbling_window_event([], start=start, end=start, terminated_early=True)
    assert first["state"] == {}
    assert first["Records"] == []
    first_window = StreamEvent.from_lambda(first).tumbling_window
    assert first_window is not None
    assert first_window.is_terminated_early


# -- FakeLambdaContext --------------------------------------------------------------------


def test_fake_context_counts_down_only_when_told() -> None:
    context = FakeLambdaContext(remaining_ms=1000, function_name="f", aws_request_id="r-1")
    assert context.get_remaining_time_in_millis() == 1000
    context.advance(400)
    assert context.get_remaining_time_in_millis() == 600
    context.advance(5000)
    assert context.get_remaining_time_in_millis() == 0
    assert context.function_name == "f"
    assert context.aws_request_id == "r-1"
    assert context.invoked_function_arn.endswith(":function:f")
    assert (
        repr(context)
        == "FakeLambdaContext(remaining_ms=1000, function_name='f', aws_request_id='r-1')"
    )
    with pytest.raises(UsageError):
        context.advance(-1)
    with pytest.raises(UsageError):
        FakeLambdaContext(remaining_ms=-5)


def test_fake_context_follows_a_clock() -> None:
    now = [100.0]
    context = FakeLambdaContext(remaining_ms=3000, clock=lambda: now[0])
    now[0] += 1.25
    assert context.get_remaining_time_in_millis() == 1750
    context.advance(750)
    assert context.get_remaining_time_in_millis() == 1000


# -- documented snippets ------------------------------------------------------------------

KIT_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "testing_kit"


def _tests_of(path: Path) -> list[tuple[str, Callable[[], None]]]:
    spec = importlib.util.spec_from_file_location(f"kit_example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [(n, f) for n, f in vars(module).items() if n.startswith("test_") and callable(f)]


@pytest.mark.parametrize("path", sorted(KIT_EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_documented_snippets_pass(path: Path) -> None:
    tests = _tests_of(path)
    assert tests, f"{path.name} has no test functions"
    for _, test in tests:
        test()
