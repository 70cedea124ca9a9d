"""ddbstream.aggregate._engine: exact totals under Lambda's at-least-once delivery (properties on
the in-memory sink), watermark conflicts, partial batch responses and retry exhaustion."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddbstream.aggregate import Aggregator, Count, MemorySink, Retry, Sum, TransientError
from ddbstream.testing import EventBuilder

from ._simulate import Crash, deliver, fault_hook, histories


def _where(image: Any) -> bool:
    return image["Status"] == "ok"


def _aggregator(sink: MemorySink) -> Aggregator:
    return Aggregator(
        group_by=lambda image: image["Group"],
        where=_where,
        measures={"Total": Sum("Amount"), "Count": Count()},
        sink=sink,
    )


FAST = Retry(attempts=3, base=0.0)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    history=histories(),
    data=st.data(),
    lanes=st.integers(1, 3),
    budget=st.integers(0, 12),
    inline=st.booleans(),
)
def test_totals_are_exact_under_any_delivery_schedule(history, data, lanes, budget, inline) -> None:
    sink = MemorySink(retry=FAST, fault=fault_hook(data, budget), inline_marks=inline)
    aggregator = _aggregator(sink)
    deliver(data, history.records, aggregator.handle, lanes=lanes)
    assert aggregator.snapshot() == history.expected(_where)


@PROPERTY
@given(history=histories(), data=st.data(), max_actions=st.integers(3, 6), inline=st.booleans())
def test_small_transactions_give_the_same_totals(history, data, max_actions, inline) -> None:
    sink = MemorySink(retry=FAST, max_actions=max_actions, inline_marks=inline)
    aggregator = _aggregator(sink)
    deliver(data, history.records, aggregator.handle)
    assert aggregator.snapshot() == history.expected(_where)


def _invoice(tid: str, amount: int, group: str = "A") -> dict[str, Any]:
    return {"TransactionId": tid, "Group": group, "Amount": amount, "Status": "ok"}


def test_a_redelivered_batch_counts_once_and_reports_duplicates() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    event = b.lambda_event(b.insert(_invoice("1", 100)), b.insert(_invoice("2", 300)))
    aggregator = _aggregator(MemorySink())
    first = aggregator.apply(event)
    second = aggregator.apply(event)
    assert (first.transactions, first.duplicates) == (1, 0)
    assert (second.transactions, second.duplicates) == (0, 2)
    assert aggregator.snapshot() == {"A": {"Total": Decimal(400), "Count": Decimal(2)}}


def test_at_least_once_sink_double_counts_a_redelivery() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    event = b.lambda_event(b.insert(_invoice("1", 100)))
    aggregator = _aggregator(MemorySink(exactly_once=False))
    aggregator.handle(event)
    aggregator.handle(event)
    assert aggregator.snapshot() == {"A": {"Total": Decimal(200), "Count": Decimal(2)}}


def test_one_transaction_per_batch_whatever_the_number_of_records() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    records = [b.insert(_invoice(str(i), i, group="AB"[i % 2])) for i in range(40)]
    sink = MemorySink()
    result = _aggregator(sink).apply(b.lambda_event(records))
    assert result.transactions == 1 == sink.commits


def test_exhausted_retries_report_the_unapplied_records_in_batch_order() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    records = [b.insert(_invoice(str(i), 1, group=f"G{i}")) for i in range(6)]
    calls = []

    def fault(tx: Any, phase: str) -> None:
        if phase == "before":
            calls.append(tx)
            if len(calls) > 1:
                raise TransientError("throttled")

    sink = MemorySink(max_actions=4, retry=FAST, fault=fault)
    result = _aggregator(sink).apply(b.lambda_event(records))
    applied = set(sink.groups)
    assert len(applied) == 2  # the first transaction: 2 groups + 2 watermarks
    assert not result.ok
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    groups = [r["dynamodb"]["NewImage"]["Group"]["S"] for r in records]
    expected = [s for s, g in zip(seqs, groups, strict=True) if g not in applied]
    assert list(result.unapplied) == expected
    assert result.response()["batchItemFailures"][0]["itemIdentifier"] == result.unapplied[0]
    assert all(isinstance(e, TransientError) for e in result.errors)


def test_a_lost_response_is_resolved_by_the_watermarks() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    event = b.lambda_event(b.insert(_invoice("1", 5)), b.insert(_invoice("2", 7)))
    lost = []

    def fault(tx: Any, phase: str) -> None:
        if phase == "after" and not lost:
            lost.append(tx)
            raise TransientError("connection reset after the write landed")

    sink = MemorySink(retry=FAST, fault=fault)
    result = _aggregator(sink).apply(event)
    assert result.ok
    assert result.duplicates == 2
    assert sink.commits == 1
    assert _aggregator(sink).snapshot() == {"A": {"Total": Decimal(12), "Count": Decimal(2)}}


def test_a_crash_between_transactions_is_redelivered_exactly() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    event = b.lambda_event([b.insert(_invoice(str(i), 10, group=f"G{i}")) for i in range(6)])
    crashed = []

    def fault(tx: Any, phase: str) -> None:
        if phase == "after" and len(crashed) < 2:
            crashed.append(tx)
            if len(crashed) == 2:
                raise Crash("killed between transactions")

    sink = MemorySink(max_actions=3, fault=fault)
    aggregator = _aggregator(sink)
    with pytest.raises(Crash):
        aggregator.handle(event)
    assert aggregator.handle(event) == {"batchItemFailures": []}
    assert aggregator.snapshot() == {
        f"G{i}": {"Total": Decimal(10), "Count": Decimal(1)} for i in range(6)
    }


@PROPERTY
@given(data=st.data(), factor=st.integers(1, 3), inline=st.booleans())
def test_totals_are_exact_through_testing_kit_schedules(data, factor, inline) -> None:
    from ddbstream.testing import change_histories, deliveries

    from ._kit import GROUPED_ITEMS, expected_from, kit_aggregator, play

    history = data.draw(
        change_histories(
            keys=st.sampled_from([{"pk": k} for k in "abcde"]),
            attributes=GROUPED_ITEMS,
            max_changes=30,
        )
    )
    schedule = data.draw(
        deliveries(
            history.records, parallelization_factor=factor, max_faults=6, bisect_on_error=True
        )
    )
    armed: list[int | None] = [None]

    def fault(tx: Any, phase: str) -> None:
        if armed[0] is None:
            return
        if phase == "before" and armed[0] == 0:
            armed[0] = None
            raise Crash("before any write")
        if phase == "after":
            armed[0] -= 1
            if armed[0] == 0:
                armed[0] = None
                raise Crash("after the armed number of landed writes")

    def arm(writes: int | None) -> None:
        armed[0] = writes

    sink = MemorySink(fault=fault, inline_marks=inline, max_actions=4)
    aggregator = kit_aggregator(sink)
    play(schedule, aggregator.handle, arm)
    assert aggregator.snapshot() == expected_from(history.final_table)


def test_a_coalesced_total_beyond_38_digits_fails_only_the_records_of_that_group() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    half = Decimal("9" * 38)  # 38 digits; their sum needs 39
    records = [
        b.insert(_invoice("1", half)),
        b.insert(_invoice("2", half)),
        b.insert(_invoice("3", 5, group="B")),
    ]
    sink = MemorySink()
    result = _aggregator(sink).apply(b.lambda_event(records))
    assert result.failed == tuple(r["dynamodb"]["SequenceNumber"] for r in records[:2])
    assert "38 significant digits" in str(result.errors[0])
    assert _aggregator(sink).snapshot() == {"B": {"Total": Decimal(5), "Count": Decimal(1)}}


def _seeded_faults(seed: int) -> Any:
    """Faults decided by the transaction's content, so they do not depend on which of the
    concurrently committed transactions comes first (each transaction faults at most 3 times
    per phase, so deliveries converge)."""
    import random
    import threading

    seen: dict[tuple[str, str], int] = {}
    lock = threading.Lock()

    def fault(tx: Any, phase: str) -> None:
        with lock:
            n = seen[(tx.token, phase)] = seen.get((tx.token, phase), 0) + 1
        roll = random.Random(f"{seed}:{tx.token}:{phase}:{n}").random()
        if n > 3 or roll >= 0.3:
            return
        if roll < 0.2:
            raise TransientError(f"injected {phase}")
        raise Crash(phase)

    return fault


@PROPERTY
@given(
    history=histories(),
    data=st.data(),
    lanes=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    max_actions=st.integers(3, 6),
    concurrency=st.integers(2, 4),
    inline=st.booleans(),
)
def test_concurrent_transactions_keep_totals_exact_under_faults(
    history, data, lanes, seed, max_actions, concurrency, inline
) -> None:
    sink = MemorySink(
        retry=FAST,
        fault=_seeded_faults(seed),
        max_actions=max_actions,
        concurrency=concurrency,
        inline_marks=inline,
    )
    aggregator = _aggregator(sink)
    deliver(data, history.records, aggregator.handle, lanes=lanes)
    assert aggregator.snapshot() == history.expected(_where)


def test_transactions_on_disjoint_groups_are_committed_concurrently() -> None:
    import threading

    b = EventBuilder("Transactions", keys=("TransactionId",))
    event = b.lambda_event([b.insert(_invoice(str(i), 10, group=f"G{i}")) for i in range(2)])
    both_in_flight = threading.Barrier(2, timeout=10)  # broken if they run one after the other

    def fault(tx: Any, phase: str) -> None:
        if phase == "before":
            both_in_flight.wait()

    sink = MemorySink(max_actions=3, concurrency=2, fault=fault)  # one item per transaction
    result = _aggregator(sink).apply(event)
    assert result.ok
    assert result.transactions == 2 == sink.commits


def test_one_failed_transaction_of_a_wave_fails_only_its_records() -> None:
    b = EventBuilder("Transactions", keys=("TransactionId",))
    records = [
        b.insert(_invoice("0", 1, group="G0")),
        b.insert(_invoice("1", 2, group="G1")),
        b.insert(_invoice("2", 4, group="G0")),
    ]
    broken = [True]

    def fault(tx: Any, phase: str) -> None:
        if broken[0] and phase == "before" and any(g == "G0" for g, _ in tx.groups):
            raise TransientError("throttled")

    sink = MemorySink(max_actions=3, concurrency=2, retry=FAST, fault=fault)
    aggregator = _aggregator(sink)
    result = aggregator.apply(b.lambda_event(records))
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert result.unapplied == (seqs[0], seqs[2])
    assert result.processed == (seqs[1],)
    assert aggregator.snapshot() == {"G1": {"Total": Decimal(2), "Count": Decimal(1)}}
    broken[0] = False  # Lambda retries from the lowest failed record: the whole batch again
    again = aggregator.apply(b.lambda_event(records))
    assert again.ok
    assert again.duplicates == 1
    assert aggregator.snapshot() == {
        "G0": {"Total": Decimal(5), "Count": Decimal(2)},
        "G1": {"Total": Decimal(2), "Count": Decimal(1)},
    }


def test_a_concurrency_below_one_is_refused() -> None:
    from ddbstream import UsageError

    with pytest.raises(UsageError, match="concurrency"):
        MemorySink(concurrency=0)
