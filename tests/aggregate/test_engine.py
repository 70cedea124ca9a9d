"""ddbstream.aggregate._engine: exact totals under Lambda's at-least-once delivery (properties
on the in-memory sink), watermark conflicts, partial batch responses, retry exhaustion, and what
is logged for each batch."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _delivery import Crash
from ddbstream import AggregationError, TransientError, UsageError
from ddbstream.aggregate import Aggregator, Count, MemorySink, Retry, Sum
from ddbstream.testing import EventBuilder, kinesis_event

from ._simulate import deliver, fault_hook, histories


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


@given(history=histories(), data=st.data(), lanes=st.integers(1, 3), budget=st.integers(0, 12))
def test_totals_are_exact_under_any_delivery_schedule(history, data, lanes, budget) -> None:
    sink = MemorySink(retry=FAST, fault=fault_hook(data, budget))
    aggregator = _aggregator(sink)
    deliver(data, history.records, aggregator.handle, lanes=lanes)
    assert aggregator.snapshot() == history.expected(_where)


@given(history=histories(), data=st.data(), max_lanes=st.integers(1, 4))
def test_small_writes_give_the_same_totals(history, data, max_lanes) -> None:
    aggregator = _aggregator(MemorySink(retry=FAST, max_lanes=max_lanes))
    deliver(data, history.records, aggregator.handle)
    assert aggregator.snapshot() == history.expected(_where)


def _invoice(tid: str, amount: Any, group: str = "A") -> dict[str, Any]:
    return {"TransactionId": tid, "Group": group, "Amount": amount, "Status": "ok"}


B = EventBuilder("Transactions", keys=("TransactionId",))


def test_a_redelivered_batch_counts_once_and_reports_duplicates() -> None:
    event = B.lambda_event(B.insert(_invoice("1", 100)), B.insert(_invoice("2", 300)))
    aggregator = _aggregator(MemorySink())
    first = aggregator.apply(event)
    second = aggregator.apply(event)
    assert (first.writes, first.duplicates) == (1, 0)
    assert (second.writes, second.duplicates) == (0, 2)
    assert aggregator.snapshot() == {"A": {"Total": Decimal(400), "Count": Decimal(2)}}


def test_at_least_once_sink_double_counts_a_redelivery() -> None:
    event = B.lambda_event(B.insert(_invoice("1", 100)))
    aggregator = _aggregator(MemorySink(exactly_once=False))
    aggregator.handle(event)
    aggregator.handle(event)
    assert aggregator.snapshot() == {"A": {"Total": Decimal(200), "Count": Decimal(2)}}


def test_one_write_per_touched_group_whatever_the_number_of_records() -> None:
    records = [B.insert(_invoice(str(i), i, group="AB"[i % 2])) for i in range(40)]
    sink = MemorySink()
    result = _aggregator(sink).apply(B.lambda_event(records))
    assert result.writes == 2 == sink.commits


def test_exhausted_retries_report_the_unapplied_records_in_batch_order() -> None:
    records = [B.insert(_invoice(str(i), 1, group=f"G{i}")) for i in range(6)]
    calls: list[Any] = []

    def fault(write: Any, phase: str) -> None:
        if phase == "before":
            calls.append(write)
            if write.target in ("G1", "G4"):
                raise TransientError("throttled")

    sink = MemorySink(retry=FAST, fault=fault)
    result = _aggregator(sink).apply(B.lambda_event(records))
    assert set(sink.groups) == {"G0", "G2", "G3", "G5"}
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert result.unapplied == (seqs[1], seqs[4])
    assert result.failed == result.unapplied
    assert result.response()["batchItemFailures"][0]["itemIdentifier"] == seqs[1]
    assert all(isinstance(e, TransientError) for e in result.errors)


def test_a_lost_response_is_resolved_by_the_watermarks() -> None:
    event = B.lambda_event(B.insert(_invoice("1", 5)), B.insert(_invoice("2", 7)))
    lost: list[Any] = []

    def fault(write: Any, phase: str) -> None:
        if phase == "after" and not lost:
            lost.append(write)
            raise TransientError("connection reset after the write landed")

    sink = MemorySink(retry=FAST, fault=fault)
    result = _aggregator(sink).apply(event)
    assert result.ok
    assert result.duplicates == 2
    assert sink.commits == 1
    assert _aggregator(sink).snapshot() == {"A": {"Total": Decimal(12), "Count": Decimal(2)}}


def test_a_crash_between_writes_is_redelivered_exactly() -> None:
    event = B.lambda_event([B.insert(_invoice(str(i), 10, group=f"G{i}")) for i in range(6)])
    landed: list[Any] = []

    def fault(write: Any, phase: str) -> None:
        if phase == "after" and len(landed) < 2:
            landed.append(write)
            if len(landed) == 2:
                raise Crash("killed between writes")

    aggregator = _aggregator(MemorySink(fault=fault))
    with pytest.raises(Crash):
        aggregator.handle(event)
    assert aggregator.handle(event) == {"batchItemFailures": []}
    assert aggregator.snapshot() == {
        f"G{i}": {"Total": Decimal(10), "Count": Decimal(1)} for i in range(6)
    }


def test_records_that_cancel_out_still_leave_their_watermarks() -> None:
    # +5 then -5 on one group nets to nothing, but the write must still mark both records
    # applied: a later redelivery starting between them must not apply the -5 alone.
    before, after = _invoice("1", 5), _invoice("1", 5, group="B")
    other = _invoice("2", 1, group="C")
    records = [B.insert(before), B.insert(other), B.modify(before, after)]
    aggregator = _aggregator(MemorySink())
    assert aggregator.apply(B.lambda_event(records)).ok
    aggregator.apply(B.lambda_event(records[1:]))  # redelivered from the second record
    assert aggregator.snapshot() == {
        "B": {"Total": Decimal(5), "Count": Decimal(1)},
        "C": {"Total": Decimal(1), "Count": Decimal(1)},
    }


@given(data=st.data(), factor=st.integers(1, 3))
def test_totals_are_exact_through_testing_kit_schedules(data, factor) -> None:
    from _delivery import play
    from ddbstream.testing.strategies import change_histories, deliveries

    from ._kit import GROUPED_ITEMS, expected_from, kit_aggregator

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

    def fault(write: Any, phase: str) -> None:
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

    aggregator = kit_aggregator(MemorySink(fault=fault, max_lanes=2))
    play(schedule, aggregator.handle, arm)
    assert aggregator.snapshot() == expected_from(history.final_table)


def test_a_coalesced_total_beyond_38_digits_fails_only_the_records_of_that_group() -> None:
    half = Decimal("9" * 38)  # 38 digits; their sum needs 39
    records = [
        B.insert(_invoice("1", half)),
        B.insert(_invoice("2", half)),
        B.insert(_invoice("3", 5, group="B")),
    ]
    sink = MemorySink()
    result = _aggregator(sink).apply(B.lambda_event(records))
    assert result.failed == tuple(r["dynamodb"]["SequenceNumber"] for r in records[:2])
    assert "39 significant digits" in str(result.errors[0])
    assert _aggregator(sink).snapshot() == {"B": {"Total": Decimal(5), "Count": Decimal(1)}}


def _seeded_faults(seed: int) -> Any:
    """Faults decided by the write's content, so they do not depend on which of the
    concurrently sent writes comes first (each write faults at most 3 times per phase)."""
    import random
    import threading

    seen: dict[tuple[str, str], int] = {}
    lock = threading.Lock()

    def fault(write: Any, phase: str) -> None:
        with lock:
            n = seen[(write.token, phase)] = seen.get((write.token, phase), 0) + 1
        roll = random.Random(f"{seed}:{write.token}:{phase}:{n}").random()
        if n > 3 or roll >= 0.3:
            return
        if roll < 0.2:
            raise TransientError(f"injected {phase}")
        raise Crash(phase)

    return fault


@given(
    history=histories(),
    data=st.data(),
    lanes=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    max_lanes=st.integers(1, 3),
    concurrency=st.integers(2, 4),
)
def test_concurrent_writes_keep_totals_exact_under_faults(
    history, data, lanes, seed, max_lanes, concurrency
) -> None:
    sink = MemorySink(
        retry=FAST, fault=_seeded_faults(seed), max_lanes=max_lanes, concurrency=concurrency
    )
    aggregator = _aggregator(sink)
    deliver(data, history.records, aggregator.handle, lanes=lanes)
    assert aggregator.snapshot() == history.expected(_where)


def test_writes_of_distinct_groups_are_sent_concurrently() -> None:
    import threading

    event = B.lambda_event([B.insert(_invoice(str(i), 10, group=f"G{i}")) for i in range(2)])
    both_in_flight = threading.Barrier(2, timeout=10)  # broken if they run one after the other

    def fault(write: Any, phase: str) -> None:
        if phase == "before":
            both_in_flight.wait()

    sink = MemorySink(concurrency=2, fault=fault)
    result = _aggregator(sink).apply(event)
    assert result.ok
    assert result.writes == 2 == sink.commits


def test_a_failed_write_fails_only_its_records() -> None:
    records = [
        B.insert(_invoice("0", 1, group="G0")),
        B.insert(_invoice("1", 2, group="G1")),
        B.insert(_invoice("2", 4, group="G0")),
    ]
    broken = [True]

    def fault(write: Any, phase: str) -> None:
        if broken[0] and phase == "before" and write.target == "G0":
            raise TransientError("throttled")

    aggregator = _aggregator(MemorySink(concurrency=2, retry=FAST, fault=fault))
    result = aggregator.apply(B.lambda_event(records))
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert result.unapplied == (seqs[0], seqs[2])
    assert result.processed == (seqs[1],)
    broken[0] = False  # Lambda retries from the lowest failed record: the whole batch again
    again = aggregator.apply(B.lambda_event(records))
    assert again.ok
    assert again.duplicates == 1
    assert aggregator.snapshot() == {
        "G0": {"Total": Decimal(5), "Count": Decimal(2)},
        "G1": {"Total": Decimal(2), "Count": Decimal(1)},
    }


def test_a_bad_record_fails_and_the_later_records_of_its_item_wait() -> None:
    first = B.insert(_invoice("1", 5))
    earlier_of_item = B.insert(_invoice("2", 1))
    bad = B.modify(_invoice("2", 1), _invoice("2", "x"))
    other = B.insert(_invoice("3", 7, "B"))
    later_of_item = B.remove(_invoice("2", "x"))
    aggregator = _aggregator(MemorySink())
    event = B.lambda_event(first, earlier_of_item, bad, other, later_of_item)
    result = aggregator.apply(event)
    seq = [
        r["dynamodb"]["SequenceNumber"] for r in (first, earlier_of_item, bad, other, later_of_item)
    ]
    assert result.failed == (seq[2],)
    assert result.not_attempted == (seq[4],)
    assert result.unapplied == (seq[2], seq[4])
    assert isinstance(result.errors[0], AggregationError)
    assert aggregator.snapshot() == {
        "A": {"Total": Decimal(6), "Count": Decimal(2)},
        "B": {"Total": Decimal(7), "Count": Decimal(1)},
    }


def test_an_empty_string_group_fails_alone() -> None:
    aggregator = _aggregator(MemorySink())
    good, bad = B.insert(_invoice("1", 5)), B.insert(_invoice("2", 7, group=""))
    result = aggregator.apply(B.lambda_event(good, bad))
    assert result.failed == (bad["dynamodb"]["SequenceNumber"],)
    assert "empty string" in str(result.errors[0])
    assert aggregator.snapshot() == {"A": {"Total": Decimal(5), "Count": Decimal(1)}}


def test_records_of_one_item_out_of_sequence_order_are_refused() -> None:
    first = B.insert(_invoice("1", 5))
    second = B.modify(_invoice("1", 5), _invoice("1", 9))
    aggregator = _aggregator(MemorySink())
    result = aggregator.apply(B.lambda_event(second, first))
    assert result.failed == (first["dynamodb"]["SequenceNumber"],)
    assert "stream order" in str(result.errors[0])
    twice = aggregator.apply(B.lambda_event(first, first))
    assert twice.ok


def test_kinesis_records_are_refused_by_an_exactly_once_sink() -> None:
    event = kinesis_event(B.insert(_invoice("1", 5)))
    with pytest.raises(UsageError, match="Kinesis"):
        _aggregator(MemorySink()).handle(event)
    lax = _aggregator(MemorySink(exactly_once=False))
    assert lax.handle(event) == {"batchItemFailures": []}


def test_each_failed_record_is_logged_once_and_each_batch_summarised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good, bad = B.insert(_invoice("1", 5)), B.insert(_invoice("2", "x"))
    caplog.set_level(logging.INFO, logger="ddbstream.aggregate")
    _aggregator(MemorySink()).handle(B.lambda_event(good, bad))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    warning = warnings[0]
    assert warning.event_id == bad["eventID"]
    assert warning.sequence_number == bad["dynamodb"]["SequenceNumber"]
    assert "needs a number" in warning.getMessage()
    assert bad["eventID"] in warning.getMessage()
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1
    assert (infos[0].records, infos[0].processed, infos[0].failed) == (2, 1, 1)


def test_duplicates_are_not_failures(caplog: pytest.LogCaptureFixture) -> None:
    event = B.lambda_event(B.insert(_invoice("1", 5)))
    aggregator = _aggregator(MemorySink())
    aggregator.handle(event)
    caplog.set_level(logging.INFO, logger="ddbstream.aggregate")
    assert aggregator.handle(event) == {"batchItemFailures": []}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
