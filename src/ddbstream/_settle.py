"""The exactly-once core: apply records' effects to targets once, whatever the redeliveries.

Callers (the aggregator today; projections and once-per-key guards can use it as it is) turn a
batch into :class:`Part` objects: one record's effect on one target, in one lane (see
``_marks``). :func:`settle` then

1. groups the parts per target and cuts them into chunks of at most ``max_lanes`` lanes (a lane's
   parts never split), so that each chunk is one atomic write the writer can send;
2. coalesces each chunk into one :class:`Write`: the target, one :class:`Mark` per lane (its first
   and last sequence numbers) and the combined effect, with a token that digests exactly that
   content (effects that do not combine, a sum beyond 38 digits, fail that chunk's records);
3. hands the writes to the :class:`Writer`, :data:`ROUND` at a time, which answers one
   :data:`Outcome` per write: applied; stale (the target's watermarks show an earlier delivery
   applied some lanes' records: those parts are dropped and the rest rewritten, or done when
   none is left); retry (throttling, a conflict, no answer: backoff with jitter, then the same
   write again, at most ``retry.attempts`` times); rejected (the target refuses this effect: its
   parts fail); or deferred (not applied through no fault of its own, e.g. a transaction another
   write cancelled);
4. stops before the Lambda deadline: what is not written by then is "not attempted".

Everything is recorded in a :class:`Tally` of the batch's records, by index. The core never
sleeps past the deadline, never writes a chunk twice without a new answer, and ends: each round
drops parts, spends an attempt, or fails a chunk.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from ._errors import DataError, DDBStreamError, TransientError
from ._marks import Mark

__all__ = [
    "APPLIED",
    "DEFERRED",
    "Applied",
    "Deadline",
    "Deferred",
    "NO_DEADLINE",
    "Outcome",
    "Part",
    "Rejected",
    "Retried",
    "Retry",
    "Stale",
    "Tally",
    "Write",
    "Writer",
    "settle",
]

E = TypeVar("E")
#: Writes handed to the writer at once: the deadline is checked between rounds.
ROUND = 50


@dataclass(frozen=True, slots=True)
class Retry:
    """Jittered exponential backoff ("full jitter") for writes that may succeed later.

    Attempt ``n`` (from 0) sleeps a uniform random time in ``[0, min(cap, base * 2**n)]``;
    after ``attempts`` tries the records fail (Lambda delivers them again).

    Example:
        >>> Retry(attempts=3, base=0.0).delay(2)
        0.0
    """

    attempts: int = 8
    base: float = 0.05
    cap: float = 2.0

    def delay(
        self, attempt: int, *, rng: Callable[[float, float], float] = random.uniform
    ) -> float:
        """Seconds to sleep before retry number ``attempt`` (0-based)."""
        return rng(0.0, min(self.cap, self.base * (2**attempt)))


@dataclass(frozen=True, slots=True)
class Part(Generic[E]):
    """One record's effect on one target: ``index`` is the record's place in the batch."""

    target: Hashable
    lane: str
    sequence: int
    index: int
    effect: E


@dataclass(frozen=True, slots=True)
class Write(Generic[E]):
    """One atomic write: the target, a watermark per lane, and the coalesced effect.

    ``token`` is a digest of exactly this content (target, lanes with their first and last
    sequence numbers, effect): two writes share it only when they would do the same thing, so
    it can serve as DynamoDB's ``ClientRequestToken``.
    """

    target: Hashable
    marks: tuple[Mark, ...]
    effect: E
    token: str


@dataclass(frozen=True, slots=True)
class Applied:
    """The write landed."""


@dataclass(frozen=True, slots=True)
class Stale:
    """Nothing was written: the target holds these watermarks (lane -> sequence number), at or
    past the first record of some of the write's lanes."""

    stored: dict[str, int]


@dataclass(frozen=True, slots=True)
class Retried:
    """Nothing was written (or it is unknown whether it was: a lost answer); try again."""

    error: TransientError


@dataclass(frozen=True, slots=True)
class Rejected:
    """The target refuses this effect (a total beyond 38 digits, a key DynamoDB refuses)."""

    error: DDBStreamError


@dataclass(frozen=True, slots=True)
class Deferred:
    """Not applied through no fault of its own; send it again in the next round."""


APPLIED = Applied()
DEFERRED = Deferred()
Outcome = Applied | Stale | Retried | Rejected | Deferred


class Writer(Protocol[E]):
    """Sends writes; one outcome per write, in order. Raises only for what no retry can mend
    (misuse, a missing table) or for a crash."""

    def commit(self, writes: Sequence[Write[E]]) -> Sequence[Outcome]: ...


@dataclass(frozen=True, slots=True)
class Deadline:
    """The time a batch may use: ``remaining`` is Lambda's ``get_remaining_time_in_millis``
    (None: no deadline), and ``margin_ms`` is kept in reserve."""

    remaining: Callable[[], int] | None = None
    margin_ms: int = 1000

    def expired(self) -> bool:
        """True when less than the margin is left."""
        return self.remaining is not None and self.remaining() < self.margin_ms

    def allows(self, seconds: float) -> bool:
        """True when sleeping ``seconds`` still leaves the margin."""
        return self.remaining is None or self.remaining() - seconds * 1000 >= self.margin_ms


#: No deadline: write until done.
NO_DEADLINE = Deadline()


@dataclass(slots=True)
class Tally:
    """What happened to each record of a batch, by index."""

    size: int
    failed: dict[int, DDBStreamError] = field(default_factory=dict)
    not_attempted: dict[int, DDBStreamError] = field(default_factory=dict)
    filtered: set[int] = field(default_factory=set)
    duplicate_parts: dict[int, int] = field(default_factory=dict)
    parts: dict[int, int] = field(default_factory=dict)
    writes: int = 0
    deadline_reached: bool = False

    def fail(self, indexes: Sequence[int], error: DDBStreamError) -> None:
        for index in indexes:
            self.failed.setdefault(index, error)

    def skip(self, indexes: Sequence[int], error: DDBStreamError) -> None:
        for index in indexes:
            if index not in self.failed:
                self.not_attempted.setdefault(index, error)

    def count_parts(self, parts: Sequence[Part[Any]]) -> None:
        for part in parts:
            self.parts[part.index] = self.parts.get(part.index, 0) + 1

    def duplicate(self, parts: Sequence[Part[Any]]) -> None:
        for part in parts:
            self.duplicate_parts[part.index] = self.duplicate_parts.get(part.index, 0) + 1

    @property
    def duplicates(self) -> int:
        """Records every part of which an earlier delivery had applied."""
        return sum(
            1
            for index, count in self.duplicate_parts.items()
            if count == self.parts.get(index) and index not in self.failed
        )


def token_of(target: Hashable, marks: Sequence[Mark], effect: object) -> str:
    """A 32-character digest of a write's exact content."""
    text = json.dumps(
        [repr(target), [[m.lane, m.first, m.last] for m in marks], repr(effect)],
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(slots=True)
class _Chunk(Generic[E]):
    target: Hashable
    parts: list[Part[E]]
    attempts: int = 0
    write: Write[E] | None = None

    def build(self, coalesce: Callable[[Sequence[Part[E]]], E]) -> Write[E]:
        if self.write is None:
            spans: dict[str, list[int]] = {}
            for part in self.parts:
                span = spans.setdefault(part.lane, [part.sequence, part.sequence])
                span[0], span[1] = min(span[0], part.sequence), max(span[1], part.sequence)
            marks = tuple(Mark(lane, first, last) for lane, (first, last) in sorted(spans.items()))
            effect = coalesce(self.parts)
            self.write = Write(self.target, marks, effect, token_of(self.target, marks, effect))
        return self.write

    def drop(self, applied: list[Part[E]]) -> None:
        ids = {id(p) for p in applied}
        self.parts = [p for p in self.parts if id(p) not in ids]
        self.write = None

    @property
    def indexes(self) -> list[int]:
        return sorted({p.index for p in self.parts})


def _chunks(parts: Sequence[Part[E]], max_lanes: int) -> list[_Chunk[E]]:
    by_target: dict[Hashable, dict[str, list[Part[E]]]] = {}
    for part in parts:
        by_target.setdefault(part.target, {}).setdefault(part.lane, []).append(part)
    chunks: list[_Chunk[E]] = []
    for target, lanes in by_target.items():
        ordered = sorted(lanes.items())
        for start in range(0, len(ordered), max_lanes):
            group = [p for _, lane in ordered[start : start + max_lanes] for p in lane]
            chunks.append(_Chunk(target, group))
    return chunks


def settle(
    parts: Sequence[Part[E]],
    *,
    writer: Writer[E],
    coalesce: Callable[[Sequence[Part[E]]], E],
    max_lanes: int,
    retry: Retry,
    tally: Tally,
    deadline: Deadline = NO_DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Apply every part once (see the module docstring); the results go to ``tally``."""
    tally.count_parts(parts)
    chunks = _chunks(parts, max(1, max_lanes))
    while chunks:
        if deadline.expired():
            _out_of_time(chunks, tally)
            return
        chunks, waiting = chunks[:ROUND], chunks[ROUND:]
        ready: list[_Chunk[E]] = []
        for chunk in chunks:
            try:
                chunk.build(coalesce)
            except DataError as exc:  # the effects do not combine (a sum beyond 38 digits)
                tally.fail(chunk.indexes, exc)
            else:
                ready.append(chunk)
        outcomes = writer.commit([c.write for c in ready if c.write is not None])
        later: list[_Chunk[E]] = []
        backoff: int | None = None
        for chunk, outcome in zip(ready, outcomes, strict=True):
            if isinstance(outcome, Applied):
                tally.writes += 1
            elif isinstance(outcome, Stale):
                applied = [p for p in chunk.parts if outcome.stored.get(p.lane, -1) >= p.sequence]
                if applied:
                    tally.duplicate(applied)
                    chunk.drop(applied)
                    if chunk.parts:
                        later.append(chunk)
                    continue
                outcome = Retried(TransientError("a stored value changed under this write"))
            elif isinstance(outcome, Rejected):
                tally.fail(chunk.indexes, outcome.error)
            elif isinstance(outcome, Deferred):
                later.append(chunk)
            if isinstance(outcome, Retried):
                chunk.attempts += 1
                if chunk.attempts >= retry.attempts:
                    tally.fail(chunk.indexes, outcome.error)
                else:
                    later.append(chunk)
                    backoff = max(backoff or 0, chunk.attempts - 1)
        if backoff is not None and later:
            delay = retry.delay(backoff)
            if not deadline.allows(delay):
                _out_of_time([*later, *waiting], tally)
                return
            sleep(delay)
        chunks = [*waiting, *later]


def _out_of_time(chunks: Sequence[_Chunk[E]], tally: Tally) -> None:
    tally.deadline_reached = True
    error = TransientError("stopped before the Lambda deadline; Lambda delivers it again")
    for chunk in chunks:
        tally.skip(chunk.indexes, error)
