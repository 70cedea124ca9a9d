"""Tumbling windows: state in, folded state out, flush on the final invoke, 1 MB limit."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import (
    DecodeError,
    LimitExceeded,
    Router,
    StreamEvent,
    StreamRecord,
    TumblingWindow,
    UsageError,
    Window,
)
from ddbstream._window import MAX_STATE_BYTES, state_size
from ddbstream.testing import insert, lambda_event, tumbling_window_event

START, END = "2024-06-10T00:00:00Z", "2024-06-10T00:05:00Z"


def window_event(n: int, **kwargs: Any) -> dict[str, Any]:
    records = [insert({"pk": str(i), "qty": i + 1}) for i in range(n)]
    return tumbling_window_event(records, start=START, end=END, **kwargs)


def add_qty(state: dict[str, Any], record: StreamRecord[Any]) -> dict[str, Any]:
    qty = int(record.new_image["qty"])  # type: ignore[index]
    return {"total": state.get("total", 0) + qty, "count": state.get("count", 0) + 1}


def test_window_fields() -> None:
    event = window_event(1, state={"total": 3}, final=True, shard_id="shard-1")
    window = StreamEvent.parse(event).tumbling_window
    assert window == Window(
        start=dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc),
        end=dt.datetime(2024, 6, 10, 0, 5, tzinfo=dt.timezone.utc),
        shard_id="shard-1",
        state={"total": 3},
        is_final_invoke=True,
    )
    assert StreamEvent.parse(lambda_event(insert({"pk": "a"}))).tumbling_window is None
    assert Window.from_lambda_event(event) == window


def test_folds_records_into_the_incoming_state() -> None:
    router = Router(window=TumblingWindow(add_qty))
    response = router.handle(window_event(3, state={"total": 10, "count": 1}))
    assert response == {"state": {"total": 16, "count": 4}, "batchItemFailures": []}


def test_first_invoke_starts_from_an_empty_state() -> None:
    event = window_event(2)
    event.pop("state", None)
    assert Router(window=TumblingWindow(add_qty)).handle(event)["state"] == {"total": 3, "count": 2}


def test_failure_returns_the_state_before_the_failed_record() -> None:
    def fails_on_2(record: StreamRecord[Any]) -> None:
        if record.keys["pk"] == "2":
            raise RuntimeError("boom")

    router = Router(window=TumblingWindow(add_qty))
    router.add(None, fails_on_2)
    event = window_event(5)
    response = router.handle(event)
    assert response["state"] == {"total": 1 + 2, "count": 2}
    assert response["batchItemFailures"] == [
        {"itemIdentifier": event["Records"][2]["dynamodb"]["SequenceNumber"]}
    ]


@given(n=st.integers(1, 10), data=st.data())
def test_retry_from_the_failed_record_never_double_counts(n: int, data: st.DataObject) -> None:
    """Replay Lambda: after a partial failure, resend the records from the failed one with the
    returned state; the final total is each record counted once."""
    fail_at = data.draw(st.integers(0, n - 1))
    failed_once: set[str] = set()

    def flaky(record: StreamRecord[Any]) -> None:
        key = record.keys["pk"]
        if int(key) == fail_at and key not in failed_once:
            failed_once.add(key)
            raise RuntimeError("transient")

    router = Router(window=TumblingWindow(add_qty))
    router.add(None, flaky)
    records = [insert({"pk": str(i), "qty": i + 1}) for i in range(n)]
    event = tumbling_window_event(records, start=START, end=END)
    state: dict[str, Any] = {}
    for _ in range(3):
        response = router.handle({**event, "state": state})
        state = response["state"]
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        if not failed:
            break
        seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        event = {**event, "Records": event["Records"][seqs.index(min(failed, key=int)) :]}
    assert state == {"total": n * (n + 1) // 2, "count": n}


def test_flush_runs_on_the_final_invoke_only() -> None:
    flushed: list[tuple[dict[str, Any], Window]] = []
    router = Router(window=TumblingWindow(add_qty, flush=lambda s, w: flushed.append((s, w))))
    router.handle(window_event(2))
    assert flushed == []
    response = router.handle(window_event(2, state={"total": 5, "count": 1}, final=True))
    assert [s for s, _ in flushed] == [{"total": 8, "count": 3}]
    assert flushed[0][1].is_final_invoke
    assert response["state"] == {"total": 8, "count": 3}


def test_flush_is_skipped_when_a_record_failed() -> None:
    flushed: list[Any] = []
    router = Router(window=TumblingWindow(add_qty, flush=lambda s, w: flushed.append(s)))
    router.add(None, lambda r: 1 / 0)
    response = router.handle(window_event(2, final=True))
    assert flushed == []
    assert response["state"] == {}
    assert len(response["batchItemFailures"]) == 1


def test_flush_error_propagates() -> None:
    def flush(state: dict[str, Any], window: Window) -> None:
        raise ConnectionError("table down")

    with pytest.raises(ConnectionError):
        Router(window=TumblingWindow(add_qty, flush=flush)).handle(window_event(1, final=True))


def test_condition_and_model_select_and_type_what_is_folded() -> None:
    from pydantic import BaseModel

    class Line(BaseModel):
        pk: str
        qty: int

    def fold(state: dict[str, Any], record: StreamRecord[Line]) -> dict[str, Any]:
        assert isinstance(record.new, Line)
        return {"qty": state.get("qty", 0) + record.new.qty}

    window = TumblingWindow(fold, model=Line, condition=lambda r: r.keys["pk"] != "1")
    assert Router(window=window).handle(window_event(3))["state"] == {"qty": 1 + 3}


def test_state_over_one_megabyte_is_refused() -> None:
    def grow(state: dict[str, Any], record: StreamRecord[Any]) -> dict[str, Any]:
        return {"blob": "x" * MAX_STATE_BYTES}

    with pytest.raises(LimitExceeded, match="over Lambda's limit of 1048576 bytes"):
        Router(window=TumblingWindow(grow)).handle(window_event(1))


def test_state_size_counts_json_bytes() -> None:
    assert state_size({"a": 1}) == len('{"a":1}')
    assert state_size({"é": Decimal("1.50")}) == len('{"é":"1.50"}'.encode())
    with pytest.raises(UsageError, match="must be JSON"):
        state_size({"a": object()})


def test_state_exactly_at_the_limit_is_accepted() -> None:
    filler = MAX_STATE_BYTES - len(json.dumps({"b": ""}, separators=(",", ":")))

    def fill(state: dict[str, Any], record: StreamRecord[Any]) -> dict[str, Any]:
        return {"b": "x" * filler}

    assert Router(window=TumblingWindow(fill)).handle(window_event(1))["state"]["b"] == "x" * filler


def test_folder_returning_a_non_mapping_fails_the_record_with_a_usage_error() -> None:
    event = window_event(2)
    router = Router(window=TumblingWindow(lambda s, r: None))  # type: ignore[arg-type,return-value]
    result = router.process(event)
    (failure,) = result.failed
    assert isinstance(failure.exception, UsageError)
    assert "must return the new state" in str(failure.exception)
    first = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": first}], "state": {}}


def test_window_needs_stop_policy_and_a_window_event() -> None:
    with pytest.raises(UsageError, match="policy='stop'"):
        Router(policy="continue", window=TumblingWindow(add_qty))
    with pytest.raises(UsageError, match="TumblingWindowInSeconds"):
        Router(window=TumblingWindow(add_qty)).handle(lambda_event(insert({"pk": "a"})))


def test_router_without_window_passes_the_state_through() -> None:
    """Lambda counts a window invocation without ``state`` as failed, so it is always there."""
    router = Router.for_function(lambda r: None)
    assert router.handle(window_event(1, state={"k": 1})) == {
        "state": {"k": 1},
        "batchItemFailures": [],
    }


def test_repr() -> None:
    assert repr(TumblingWindow(add_qty)) == "TumblingWindow(add_qty)"
    assert repr(Router(window=TumblingWindow(add_qty, flush=print))) == (
        "Router(window=TumblingWindow(add_qty, flush=print))"
    )


def test_window_times_must_be_iso_8601() -> None:
    for bad in ({"start": START}, {"start": 5, "end": END}, {"start": "yesterday", "end": END}):
        event = {**window_event(1), "window": bad}
        with pytest.raises(DecodeError, match="window"):
            StreamEvent.parse(event).tumbling_window  # noqa: B018


def test_a_folder_error_fails_its_record_and_keeps_the_state_before_it() -> None:
    def fold(state: dict[str, Any], record: StreamRecord[Any]) -> dict[str, Any]:
        if record.keys["pk"] == "1":
            raise KeyError("qty")
        return add_qty(state, record)

    event = window_event(3, state={"total": 0})
    result = Router(window=TumblingWindow(fold)).process(event)
    assert [f.index for f in result.failed] == [1]
    assert result.state == {"total": 1, "count": 1}
    assert result.failed[0].route is None  # not a route's fault: the window's fold
