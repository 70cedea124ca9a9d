"""Fuzz target: the projection on any input. Arbitrary JSON-like events and valid events with
exotic images (every type, huge and tiny numbers, absent attributes), through projection
functions that copy, pick, fan out or fail: ``handle`` answers or raises a ``DDBStreamError`` in
bounded time, never changes the event, never loses a record (each is applied or named in
``batchItemFailures``), and a redelivery answers the same and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ddbstream import DDBStreamError
from ddbstream.project import MemorySink, Projection
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


def _copy(image: Any) -> Any:
    return dict(image)


def _pick(image: Any) -> Any:
    return {"pk": image.get("pk"), "n": image.get("n")}


def _fan_out(image: Any) -> Any:
    return [{"pk": f"{name}#{image.get('pk')}", "v": value} for name, value in image.items()]


def _odd(image: Any) -> Any:
    return image.get("n")  # anything: a number, None, a string... mostly not target items


FUNCTIONS: list[Callable[[Any], Any]] = [_copy, _pick, _fan_out, _odd]


def _projection(function: Callable[[Any], Any]) -> tuple[Projection, MemorySink]:
    sink = MemorySink(key="pk")
    return Projection(function, sink=sink), sink


@given(event=envelopes, function=st.sampled_from(FUNCTIONS))
def test_any_json_like_event_gets_a_typed_answer(event: Any, function: Any) -> None:
    projection, _ = _projection(function)
    call_bounded(projection.handle, event, None)


@given(event=ds.lambda_events(max_size=8), function=st.sampled_from(FUNCTIONS))
def test_any_valid_event_is_applied_or_reported_and_redelivery_changes_nothing(
    event: Any, function: Any
) -> None:
    projection, sink = _projection(function)
    response = call_bounded(projection.handle, event, None)
    if isinstance(response, DDBStreamError):
        return
    reported = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert reported <= {r["dynamodb"]["SequenceNumber"] for r in event["Records"]}
    items = sink.items()
    again = call_bounded(projection.handle, event, None)
    assert again == response
    assert sink.items() == items
