"""ddbstream._settle: the exactly-once core, driven by scripted writers: stale parts
are dropped and the rest rewritten, retries back off within the deadline and then fail, rejected
writes fail their records alone, deferred writes are sent again, chunks respect the lane limit,
tokens digest exactly a write's content, and every run ends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ddbstream import AggregationError, TransientError
from ddbstream._settle import (
    APPLIED,
    DEFERRED,
    Deadline,
    Outcome,
    Part,
    Rejected,
    Retried,
    Stale,
    Tally,
    Write,
    settle,
    token_of,
)
from ddbstream.aggregate import Retry

FAST = Retry(attempts=3, base=0.0)


def _sum(parts: Sequence[Part[int]]) -> int:
    return sum(p.effect for p in parts)


class Scripted:
    """Answers from a script per target (then APPLIED), recording every write."""

    def __init__(self, script: dict[Any, list[Outcome]] | None = None) -> None:
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.writes: list[Write[int]] = []

    def commit(self, writes: Sequence[Write[int]]) -> list[Outcome]:
        self.writes.extend(writes)
        out: list[Outcome] = []
        for write in writes:
            queue = self.script.get(write.target)
            out.append(queue.pop(0) if queue else APPLIED)
        return out


def _run(parts: list[Part[int]], writer: Any, **options: Any) -> Tally:
    tally = Tally(max((p.index for p in parts), default=-1) + 1)
    settle(
        parts,
        writer=writer,
        coalesce=_sum,
        max_lanes=options.pop("max_lanes", 100),
        retry=options.pop("retry", FAST),
        tally=tally,
        sleep=options.pop("sleep", lambda _: None),
        **options,
    )
    return tally


def test_one_write_per_target_with_a_mark_per_lane() -> None:
    parts = [Part("g", "a", 1, 0, 5), Part("g", "a", 3, 1, 2), Part("g", "b", 2, 2, 1)]
    writer = Scripted()
    tally = _run(parts, writer)
    (write,) = writer.writes
    assert write.effect == 8
    assert [(m.lane, m.first, m.last) for m in write.marks] == [("a", 1, 3), ("b", 2, 2)]
    assert tally.writes == 1
    assert not tally.failed


def test_stale_drops_what_was_applied_and_rewrites_the_rest() -> None:
    parts = [Part("g", "a", 1, 0, 5), Part("g", "a", 3, 1, 2), Part("g", "b", 2, 2, 1)]
    writer = Scripted({"g": [Stale({"a": 1})]})
    tally = _run(parts, writer)
    assert [w.effect for w in writer.writes] == [8, 3]
    assert [(m.lane, m.first) for m in writer.writes[1].marks] == [("a", 3), ("b", 2)]
    assert tally.duplicate_parts == {0: 1}
    assert tally.duplicates == 1
    assert writer.writes[0].token != writer.writes[1].token


def test_a_stale_answer_that_covers_nothing_is_a_retry() -> None:
    writer = Scripted({"g": [Stale({}), Stale({"a": 0}), Stale({})]})
    tally = _run([Part("g", "a", 1, 0, 5)], writer)
    assert set(tally.failed) == {0}
    assert len(writer.writes) == 3


def test_retries_send_the_same_write_then_fail() -> None:
    error = TransientError("throttled")
    slept: list[float] = []
    writer = Scripted({"g": [Retried(error)] * 5})
    tally = _run([Part("g", "a", 1, 0, 5)], writer, sleep=slept.append)
    assert len(writer.writes) == FAST.attempts
    assert len({w.token for w in writer.writes}) == 1
    assert tally.failed == {0: error}
    assert len(slept) == FAST.attempts - 1


def test_a_rejected_write_fails_its_records_alone() -> None:
    error = AggregationError("too big")
    parts = [Part("g", "a", 1, 0, 5), Part("h", "b", 2, 1, 1), Part("h", "a", 1, 0, 2)]
    writer = Scripted({"g": [Rejected(error)]})
    tally = _run(parts, writer)
    assert tally.failed == {0: error}
    assert tally.writes == 1


def test_deferred_writes_are_sent_again_without_spending_an_attempt() -> None:
    writer = Scripted({"g": [DEFERRED, DEFERRED, DEFERRED, DEFERRED]})
    tally = _run([Part("g", "a", 1, 0, 5)], writer)
    assert tally.writes == 1
    assert len(writer.writes) == 5


class _TwoSeconds(Retry):
    def delay(self, attempt: int, **_: Any) -> float:
        return 2.0


def test_the_deadline_stops_the_writes_and_the_sleeps() -> None:
    left = [4500]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        left[0] -= int(seconds * 1000)

    writer = Scripted({"g": [Retried(TransientError("x"))] * 5})
    tally = _run(
        [Part("g", "a", 1, 0, 5)],
        writer,
        retry=_TwoSeconds(attempts=8),
        deadline=Deadline(lambda: left[0], 1000),
        sleep=sleep,
    )
    assert slept == [2.0]  # 4.5 s left: one 2 s backoff fits, the next would eat the margin
    assert tally.deadline_reached
    assert set(tally.not_attempted) == {0}
    tally = _run([Part("g", "a", 1, 0, 5)], Scripted(), deadline=Deadline(lambda: 500, 1000))
    assert tally.deadline_reached
    assert set(tally.not_attempted) == {0}


@given(lanes=st.integers(1, 30), per_lane=st.integers(1, 4), max_lanes=st.integers(1, 7))
def test_chunks_hold_whole_lanes_within_the_limit(
    lanes: int, per_lane: int, max_lanes: int
) -> None:
    parts = [Part("g", f"l{n:02}", s, n, 1) for n in range(lanes) for s in range(per_lane)]
    writer = Scripted()
    _run(parts, writer, max_lanes=max_lanes)
    assert all(len(w.marks) <= max_lanes for w in writer.writes)
    assert sum(w.effect for w in writer.writes) == lanes * per_lane
    seen = [m.lane for w in writer.writes for m in w.marks]
    assert sorted(seen) == sorted(set(seen))


def test_tokens_digest_exactly_the_content() -> None:
    from ddbstream._marks import Mark

    marks = (Mark("a", 1, 2),)
    assert token_of("g", marks, 5) == token_of("g", marks, 5)
    assert token_of("g", marks, 5) != token_of("g", (Mark("a", 3, 4),), 5)
    assert token_of("g", marks, 5) != token_of("g", marks, 6)
    assert token_of("g", marks, 5) != token_of("h", marks, 5)


outcomes = st.sampled_from(["applied", "stale", "retry", "reject", "defer"])


@given(script=st.lists(outcomes, max_size=40), parts=st.integers(1, 8))
def test_every_run_ends_and_accounts_for_every_record(script: list[str], parts: int) -> None:
    answers = iter(script)

    class Random:
        def commit(self, writes: Sequence[Write[int]]) -> list[Outcome]:
            out: list[Outcome] = []
            for write in writes:
                kind = next(answers, "applied")
                if kind == "stale":
                    out.append(Stale({write.marks[0].lane: write.marks[0].first}))
                elif kind == "retry":
                    out.append(Retried(TransientError("x")))
                elif kind == "reject":
                    out.append(Rejected(AggregationError("no")))
                elif kind == "defer":
                    out.append(DEFERRED)
                else:
                    out.append(APPLIED)
            return out

    items = [Part(f"g{n % 3}", f"l{n}", n, n, 1) for n in range(parts)]
    tally = _run(items, Random(), max_lanes=2)
    for n in range(parts):
        done = n in tally.failed or tally.duplicate_parts.get(n) or tally.writes
        assert done
