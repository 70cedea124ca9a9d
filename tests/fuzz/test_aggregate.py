"""Fuzz target: the aggregator on any input. Arbitrary JSON-like events, valid events with
exotic images (huge and tiny numbers, every type, absent attributes) and tumbling-window
states: ``handle`` answers or raises a ``DDBStreamError`` in bounded time, never changes the
event, and never loses a record: every record is either applied (or had no effect) or named in
``batchItemFailures``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ddbstream import DDBStreamError
from ddbstream.aggregate import Aggregator, Average, Count, Latest, Max, MemorySink, Sum
from ddbstream.testing import strategies as ds

from ._bounds import call_bounded

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
envelopes = st.one_of(
    json_like,
    st.fixed_dictionaries({"Records": st.lists(json_like, max_size=4)}),
    st.fixed_dictionaries(
        {"Records": st.lists(st.fixed_dictionaries({"dynamodb": json_like}), max_size=4)}
    ),
)


def _aggregator() -> Aggregator:
    """Measures over whatever attributes fuzzed images have (most are absent: optional)."""
    return Aggregator(
        group_by=lambda image: image.get("g") if hasattr(image, "get") else None,
        measures={
            "Total": Sum("n", optional=True),
            "Mean": Average("n", optional=True),
            "Count": Count(),
            "Top": Max("m", optional=True),
            "Last": Latest("s", optional=True),
        },
        sink=MemorySink(),
    )


def _accounted(event: Any, response: Any) -> None:
    assert isinstance(response, dict)
    reported = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    records = event["Records"] if isinstance(event, dict) else event
    identifiers = {r["dynamodb"]["SequenceNumber"] for r in records}
    assert reported <= identifiers


@given(event=envelopes)
def test_any_json_like_event_gets_a_typed_answer(event: Any) -> None:
    call_bounded(_aggregator().handle, event, None)


@given(event=ds.lambda_events(max_size=8))
def test_any_valid_event_is_applied_or_reported_record_by_record(event: Any) -> None:
    aggregator = _aggregator()
    response = call_bounded(aggregator.handle, event, None)
    if isinstance(response, DDBStreamError):
        return
    _accounted(event, response)
    again = call_bounded(aggregator.handle, event, None)  # redelivered
    assert not isinstance(again, DDBStreamError)
    assert again == response


numbers = st.one_of(
    st.integers(-(10**40), 10**40),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda d, e: Decimal(f"{d}E{e}"),
        st.integers(-(10**38), 10**38),
        st.integers(-999_999, 999_999),
    ),
)
attribute_values = st.one_of(
    numbers, st.text(max_size=5), st.booleans(), st.none(), st.binary(max_size=4)
)


@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {"pk": st.text(max_size=3)},
            optional={
                "g": attribute_values,
                "n": attribute_values,
                "m": attribute_values,
                "s": attribute_values,
            },
        ),
        max_size=6,
    )
)
def test_exotic_images_fail_record_by_record_in_bounded_time(rows: list[dict[str, Any]]) -> None:
    from ddbstream.testing import EventBuilder

    builder = EventBuilder("T", keys=("pk",))
    records = []
    for row in rows:
        try:
            records.append(builder.insert({k: v for k, v in row.items() if v is not None}))
        except DDBStreamError:
            continue  # a value DynamoDB could not hold: no stream record can carry it
    event = builder.lambda_event(records)
    aggregator = _aggregator()
    response = call_bounded(aggregator.handle, event, None)
    if not isinstance(response, DDBStreamError):
        _accounted(event, response)
    call_bounded(aggregator.snapshot)


@given(state=json_like, final=st.booleans())
def test_any_window_state_gets_a_typed_answer(state: Any, final: bool) -> None:
    from ddbstream.testing import tumbling_window_event

    event = tumbling_window_event(
        [], start="2024-06-10T00:00:00Z", end="2024-06-10T00:05:00Z", final=final
    )
    event["state"] = state  # whatever Lambda hands back
    call_bounded(_aggregator().handle, event, None)
