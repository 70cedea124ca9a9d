"""Tumbling windows on synthetic records: boundaries from record times, final invokes,
early termination above 1 MB of state, state kept across restarts."""

from __future__ import annotations

from typing import Any

from ddbstream.runner import CheckpointStore, EventSourceMapping, RunnerStats
from ddbstream.runner._invoke import Invoker
from ddbstream.runner._windows import WindowKeeper

from ._support import STREAM_ARN, rec


def setup(
    answer: Any, store: CheckpointStore, **settings: Any
) -> tuple[Invoker, WindowKeeper, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        events.append(event)
        return answer(event)

    keeper = WindowKeeper(
        settings.get("tumbling_window_in_seconds", 60),
        store=store,
        stream_arn=STREAM_ARN,
        clock=lambda: 0.0,
    )
    invoker = Invoker(
        handler,
        EventSourceMapping(**settings),
        stream_arn=STREAM_ARN,
        send_failure=print,
        stats=RunnerStats(),
        windows=keeper,
        retry_delay=0.0,
    )
    return invoker, keeper, events


def count(event: dict[str, Any]) -> Any:
    return {"state": {"n": event["state"].get("n", 0) + len(event["Records"])}}


def test_windows_follow_record_times_and_close_on_a_later_window() -> None:
    store = CheckpointStore()
    invoker, keeper, events = setup(count, store, tumbling_window_in_seconds=60)
    records = [rec(1, t=60.0), rec(2, t=119.0), rec(3, t=121.0)]
    assert invoker.process("s", records)
    summary = [
        (e["window"]["start"], len(e["Records"]), e["state"], e["isFinalInvokeForWindow"])
        for e in events
    ]
    assert summary == [
        ("1970-01-01T00:01:00Z", 2, {}, False),
        ("1970-01-01T00:01:00Z", 0, {"n": 2}, True),
        ("1970-01-01T00:02:00Z", 1, {}, False),
    ]
    assert store.window(STREAM_ARN, "s") == (120.0, {"n": 1})
    keeper.clock = lambda: 1000.0
    assert invoker.close_expired_window("s")
    assert events[-1]["isFinalInvokeForWindow"] is True
    assert events[-1]["state"] == {"n": 1}
    assert store.window(STREAM_ARN, "s") is None


def test_state_survives_a_restart() -> None:
    store = CheckpointStore()
    invoker, _, _ = setup(count, store)
    invoker.process("s", [rec(1, t=10.0)])
    invoker2, _, events = setup(count, store)
    invoker2.process("s", [rec(2, t=20.0)])
    assert events[0]["state"] == {"n": 1}


def test_state_above_one_megabyte_terminates_the_window_early() -> None:
    store = CheckpointStore()

    def big(event: dict[str, Any]) -> Any:
        return {"state": {"blob": "x" * (1024 * 1024 + 1)} if event["Records"] else {}}

    invoker, _, events = setup(big, store, batch_size=1)
    invoker.process("s", [rec(1, t=10.0), rec(2, t=20.0)])
    flags = [
        (len(e["Records"]), e["isFinalInvokeForWindow"], e["isWindowTerminatedEarly"])
        for e in events
    ]
    assert flags == [(1, False, False), (0, True, True), (1, False, False), (0, True, True)]
    assert events[2]["state"] == {}  # the same window goes on with a fresh state
    assert events[2]["window"] == events[0]["window"]
