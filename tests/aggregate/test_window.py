"""ddbstream.aggregate._window: fold into Lambda's tumbling-window state (JSON-safe), skip
redelivered records, write once on the final invoke, idempotently per shard and window (a lane
of the exactly-once core)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream.aggregate import Aggregator, Count, Latest, MemorySink, Sum
from ddbstream.aggregate._window import dump_state, load_state
from ddbstream.testing import EventBuilder

from ._simulate import histories

WINDOW = {"start": "2024-06-10T06:10:00Z", "end": "2024-06-10T06:15:00Z"}


def _spec(sink: MemorySink, **measures: Any) -> Aggregator:
    return Aggregator(
        group_by="Group",
        measures=measures or {"Total": Sum("Amount"), "Count": Count()},
        sink=sink,
    )


def _run_window(spec: Aggregator, b: EventBuilder, batches: list[list[Any]]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for batch in batches:
        response = spec.handle(b.tumbling_window_event(batch, state=state, **WINDOW), None)
        assert response["batchItemFailures"] == []
        state = json.loads(json.dumps(response["state"]))  # Lambda stores it as JSON
    return state


@given(history=histories(), data=st.data())
def test_window_state_folds_exactly_and_survives_redelivery(history: Any, data: Any) -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    records = [b.stamp(r) for r in history.records]
    batches, position = [], 0
    while position < len(records):  # batches with replays of already-folded records
        start = data.draw(st.integers(max(0, position - 3), position))
        end = max(position + 1, start + data.draw(st.integers(1, 6)))
        batches.append(records[start:end])
        position = max(position, end)
    sink = MemorySink()
    spec = _spec(sink)
    state = _run_window(spec, b, batches)
    final = b.tumbling_window_event([], state=state, final=True, **WINDOW)
    assert spec.handle(final, None) == {"state": {}, "batchItemFailures": []}
    assert spec.handle(final, None) == {"state": {}, "batchItemFailures": []}  # retried
    assert spec.snapshot() == history.expected(lambda _: True)


def test_the_final_invoke_writes_once_per_shard_and_window() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    rows = [{"TransactionId": str(i), "Group": f"G{i % 7}", "Amount": i} for i in range(30)]
    sink = MemorySink()
    spec = _spec(sink, Total=Sum("Amount"))
    state = _run_window(spec, b, [[b.insert(r) for r in rows]])
    assert sink.commits == 0  # nothing written before the window closes
    final = b.tumbling_window_event([], state=state, final=True, **WINDOW)
    spec.handle(final, None)
    commits = sink.commits
    assert commits == 7  # one write per group, each with the window's watermark
    spec.handle(final, None)
    assert sink.commits == commits
    other_shard = b.tumbling_window_event(
        [], state=state, final=True, shard_id="shardId-2", **WINDOW
    )
    spec.handle(other_shard, None)
    assert sink.commits == 2 * commits
    assert spec.snapshot()["G0"]["Total"] == 2 * sum(i for i in range(30) if i % 7 == 0)


def test_state_is_json_safe_and_round_trips() -> None:
    sink = MemorySink()
    spec = _spec(sink, Total=Sum("Amount"), Last=Latest("Status"))
    deltas = {("a", Decimal(1)): {"Total": Decimal("1.10"), "Last": (5, 5, "paid")}}
    state = dump_state(spec.spec, deltas, {"x": "5"})
    text = json.dumps(state)
    assert "1.10" in text
    assert load_state(spec.spec, json.loads(text)) == (deltas, {"x": "5"})


def test_a_bad_record_stops_the_fold_and_is_reported() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    good = b.insert({"TransactionId": "1", "Group": "A", "Amount": 5})
    bad = b.insert({"TransactionId": "2", "Group": "A", "Amount": "five"})
    later = b.insert({"TransactionId": "3", "Group": "A", "Amount": 7})
    spec = _spec(MemorySink(), Total=Sum("Amount"))
    response = spec.handle(b.tumbling_window_event([good, bad, later], **WINDOW), None)
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        bad["dynamodb"]["SequenceNumber"],
        later["dynamodb"]["SequenceNumber"],
    ]
    deltas, _ = load_state(spec.spec, response["state"])
    assert deltas == {"A": {"Total": Decimal(5)}}


def test_state_over_lambdas_1_mb_is_refused() -> None:
    from ddbstream import LimitExceeded
    from ddbstream.testing import tumbling_window_event

    spec = Aggregator(group_by="pk", measures={"n": Sum("n")}, sink=MemorySink())
    builder = EventBuilder("T", keys=("pk",))
    records = [builder.insert({"pk": f"group-{i:06d}-" + "x" * 40, "n": i}) for i in range(12_000)]
    event = tumbling_window_event(
        records, start="2024-06-10T00:00:00Z", end="2024-06-10T00:05:00Z", shard_id="shard-1"
    )
    with pytest.raises(LimitExceeded, match=r"over Lambda.s limit"):
        spec.handle(event, None)


def test_a_state_that_does_not_fit_the_aggregator_is_an_aggregation_error() -> None:
    from ddbstream import AggregationError

    spec = _spec(MemorySink(), Total=Sum("Amount"))
    b = EventBuilder("Transactions", keys=("TransactionId",))
    for state in ({"v": 99}, {"v": 1, "groups": [[{"S": "A"}, {"Nope": "1"}]]}):
        with pytest.raises(AggregationError, match="state"):
            spec.handle(b.tumbling_window_event([], state=state, **WINDOW), None)


def test_handle_window_is_a_deprecated_alias_of_handle() -> None:
    import ddbstream.aggregate as aggregate
    from ddbstream import StreamEvent

    b = EventBuilder("Transactions", keys=("TransactionId",))
    spec = _spec(MemorySink(), Total=Sum("Amount"))
    event = b.tumbling_window_event(
        [b.insert({"TransactionId": "1", "Group": "A", "Amount": 2})], **WINDOW
    )
    with pytest.warns(DeprecationWarning, match="handle_window"):
        handle_window = aggregate.handle_window
    response = handle_window(spec, StreamEvent.parse(event))
    assert response["batchItemFailures"] == []
