"""Hardening of records and events (issue 11): whatever an event holds, parsing it, every property
of every record, ``repr``, ``hash``, the images and the tumbling window return or raise a
``DDBStreamError``, in bounded time, without changing the caller's event; every message renders
in bounded size."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ddbstream import DDBStreamError, DecodeError, Image, StreamEvent, StreamRecord
from ddbstream.testing import kinesis_event, lambda_event
from ddbstream.testing.strategies import lambda_events

from ._bounds import _same as same
from ._bounds import call_bounded
from ._json_like import corrupted, deep_value, json_like

PROPERTIES = [
    "event_id",
    "event_name",
    "sequence_number",
    "item_identifier",
    "envelope",
    "event_version",
    "event_source",
    "aws_region",
    "event_source_arn",
    "table_name",
    "stream_view_type",
    "size_bytes",
    "approximate_creation_time",
    "user_identity",
    "is_ttl_delete",
    "keys",
    "new_image",
    "old_image",
    "item_key",
    "new",
    "old",
    "lambda_record",
    "raw",
]


def exercise_image(image: Image) -> None:
    for call in (repr, hash, Image.to_dict, lambda i: i == i, lambda i: list(i.items())):
        call_bounded(call, image)


def exercise(record: StreamRecord[Any]) -> None:
    """Every public member of a record, each bounded and raising only typed errors."""
    for name in PROPERTIES:
        value = call_bounded(lambda: getattr(record, name))  # noqa: B023 - called at once
        if isinstance(value, Image):
            exercise_image(value)
    for call in (
        repr,
        hash,
        StreamRecord.require_new,
        StreamRecord.require_old,
        StreamRecord.changed_attributes,
        lambda r: r == r,
    ):
        call_bounded(lambda: call(record))  # noqa: B023


def exercise_event(raw: Any) -> None:
    """Parse ``raw`` and exercise everything of the event and its records; ``raw`` (the
    caller's event) must come out unchanged."""
    before = copy.deepcopy(raw)
    event = call_bounded(StreamEvent.parse, raw)
    if isinstance(event, StreamEvent):
        call_bounded(lambda: event.tumbling_window)
        call_bounded(lambda: repr(event))
        records = call_bounded(lambda: event.records)
        entries = call_bounded(event.entries)
        for entry in () if isinstance(entries, DDBStreamError) else entries:
            if isinstance(entry, StreamRecord):
                exercise(entry)
            else:
                assert isinstance(entry.error, DecodeError)
                str(entry.error)
        if not isinstance(records, DDBStreamError):
            assert not isinstance(entries, DDBStreamError)
            assert list(records) == list(entries)
    assert same(raw, before), "the caller's event changed"


@given(lambda_events(max_size=3).flatmap(corrupted))
def test_a_corrupted_lambda_event(event: Any) -> None:
    exercise_event(event)


@given(json_like)
def test_any_json_as_an_event(value: Any) -> None:
    exercise_event(value)
    exercise_event({"Records": [value]})
    exercise_event({"Records": [{"dynamodb": value, "eventID": "e"}]})
    exercise_event([value])


@given(
    st.fixed_dictionaries(
        {"window": json_like, "state": json_like, "shardId": json_like, "Records": st.just([])}
    )
)
def test_any_tumbling_window_fields(event: Any) -> None:
    exercise_event(event)


@given(json_like)
def test_any_kinesis_change_record(change: Any) -> None:
    try:
        data = json.dumps(change)
    except ValueError:  # an int too long for str(): no JSON text holds one
        assume(False)
    event = kinesis_event()
    event["Records"] = [
        {
            "kinesis": {
                "sequenceNumber": "49650000000000000000000000000000000000000000000000000002",
                "data": base64.b64encode(data.encode()).decode(),
            },
            "eventSource": "aws:kinesis",
        }
    ]
    exercise_event(event)


@given(json_like)
def test_any_image(raw: Any) -> None:
    image = call_bounded(Image, raw, name="NewImage", event_id="e", sequence_number="1")
    if isinstance(image, Image):
        exercise_image(image)


@pytest.mark.parametrize("kind", ["M", "L", "list"])
def test_keys_and_images_nested_far_beyond_the_recursion_limit(kind: str) -> None:
    """Issue 11: an error message built with repr() of such a value raised RecursionError."""
    event = lambda_event({"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "a"}}}})
    ddb = event["Records"][0]["dynamodb"]
    ddb["Keys"] = {"pk": deep_value(50_000, kind)}
    ddb["NewImage"] = {"pk": {"S": "a"}, "doc": deep_value(50_000, kind)}
    ddb["StreamViewType"] = deep_value(50_000, "list")
    (record,) = StreamEvent.from_lambda(event).records
    for call in (
        repr,
        hash,
        lambda r: r.item_key,
        lambda r: r.new_image.to_dict(),
        lambda r: repr(r.new_image),
        lambda r: r.stream_view_type,
    ):
        assert len(str(outcome(call, record))) < 1000


def outcome(call: Callable[[Any], object], *args: Any) -> object:
    """What ``call`` returns, or the ``DDBStreamError`` it raises (anything else propagates)."""
    try:
        return call(*args)
    except DDBStreamError as exc:
        return exc


@pytest.mark.parametrize("seconds", [1e300, -1e300, 10**400, float("nan"), float("inf")])
def test_a_creation_time_far_outside_any_date_is_a_decode_error(seconds: Any) -> None:
    event = lambda_event({"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "a"}}}})
    event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] = seconds
    (record,) = StreamEvent.from_lambda(event).records
    with pytest.raises(DecodeError, match="ApproximateCreationDateTime"):
        _ = record.approximate_creation_time
