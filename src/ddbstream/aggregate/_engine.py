"""The engine: one batch of records in, exact group totals in the sink, a AggregateResult out.

1. Each record becomes a :class:`~ddbstream.aggregate._delta.Change`; a record that cannot be
   aggregated fails its whole item for this batch (its later records must not overtake it).
2. Changes become per-item units, packed into transactions (``_plan``). Transactions that touch
   disjoint items and groups form waves; a wave's transactions are committed concurrently (up to
   the sink's ``concurrency``), waves one after the other.
3. Each transaction is committed optimistically (no reads). When a watermark condition fails,
   the stored watermark says which records an earlier delivery already applied: they are
   dropped and the transaction is rebuilt and retried. Transient errors are retried with
   jittered backoff; a group whose value cannot be stored fails the units that touch it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import AggregationError, DDBStreamError
from .._records import StreamRecord
from ._delta import Change, ItemId, change_of
from ._plan import Unit, pack, transaction, units_of, waves
from ._result import AggregateResult
from ._sink import GroupRejected, Sink, TransientError

if TYPE_CHECKING:
    from ._spec import Aggregator

__all__ = ["commit_units", "run"]


@dataclass(slots=True)
class _Ledger:
    """Bookkeeping of one run: which record indexes ended up where."""

    identifiers: list[str]
    failed: set[int] = field(default_factory=set)
    not_attempted: set[int] = field(default_factory=set)
    errors: list[DDBStreamError] = field(default_factory=list)
    failed_items: set[ItemId] = field(default_factory=set)
    transactions: int = 0
    duplicates: int = 0

    def fail(self, units: Sequence[Unit], error: DDBStreamError, *, attempted: bool) -> None:
        target = self.failed if attempted else self.not_attempted
        for unit in units:
            self.failed_items.add(unit.item)
            target.update(c.index for c in unit.changes)
        self.errors.append(error)

    def merge(self, other: _Ledger) -> None:
        """Add the bookkeeping of a chunk committed on its own (concurrently)."""
        self.failed |= other.failed
        self.not_attempted |= other.not_attempted
        self.errors.extend(other.errors)
        self.failed_items |= other.failed_items
        self.transactions += other.transactions
        self.duplicates += other.duplicates

    def result(self) -> AggregateResult:
        ids = self.identifiers
        bad = self.failed | self.not_attempted
        return AggregateResult(
            processed=tuple(ids[i] for i in range(len(ids)) if i not in bad),
            failed=tuple(ids[i] for i in sorted(self.failed)),
            not_attempted=tuple(ids[i] for i in sorted(self.not_attempted - self.failed)),
            errors=tuple(self.errors),
            transactions=self.transactions,
            duplicates=self.duplicates,
            unapplied=tuple(ids[i] for i in sorted(bad)),
        )


def _changes(spec: Aggregator, records: Sequence[StreamRecord[Any]], book: _Ledger) -> list[Change]:
    changes: list[Change] = []
    bad_items: dict[ItemId, DDBStreamError] = {}
    for index, record in enumerate(records):
        try:
            item: ItemId = (record.table_name or "", record.item_key)
        except DDBStreamError as exc:
            # Without a key the item is unknown: this record and everything after it wait.
            book.failed.add(index)
            book.not_attempted.update(range(index + 1, len(records)))
            book.errors.append(exc)
            break
        if item in bad_items:
            book.failed.add(index)
            continue
        try:
            changes.append(change_of(spec, record, index, item=item))
        except DDBStreamError as exc:
            bad_items[item] = exc
            book.failed.add(index)
            book.errors.append(exc)
    kept = []
    for change in changes:
        if change.item in bad_items:
            book.failed.add(change.index)
        else:
            kept.append(change)
    return kept


def _inline(sink: Sink) -> bool:
    """True when the sink keeps watermarks inside the group items (``GroupLedger``)."""
    return bool(sink.exactly_once and getattr(sink, "inline_marks", False))


def _drop_applied(units: list[Unit], conflicts: dict[ItemId, int], book: _Ledger) -> list[Unit]:
    out = []
    for unit in units:
        stored = conflicts.get(unit.item)
        if stored is None:
            out.append(unit)
            continue
        remaining = [c for c in unit.changes if c.sequence > stored]
        book.duplicates += len(unit.changes) - len(remaining)
        if remaining:
            groups = frozenset(g for c in remaining for g in c.deltas)
            out.append(Unit(unit.item, remaining, groups))
    return out


def _commit_chunk(
    spec: Aggregator,
    sink: Sink,
    chunk: list[Unit],
    book: _Ledger,
    sleep: Callable[[float], None],
) -> bool:
    """Commit one chunk; False when retries ran out (the caller stops the batch)."""
    inline = _inline(sink)
    marks = sink.exactly_once and not inline
    attempt = 0
    rounds = 0
    while chunk:
        rounds += 1
        try:
            tx = transaction(spec, chunk, marks=marks, inline=inline)
            if not tx.actions:
                return True
            conflicts = sink.commit(spec, tx)
        except TransientError as exc:
            if attempt + 1 >= sink.retry.attempts:
                book.fail(chunk, exc, attempted=True)
                return False
            sleep(sink.retry.delay(attempt))
            attempt += 1
            continue
        except GroupRejected as exc:
            rejected = [u for u in chunk if u.groups & exc.groups]
            if len(rejected) > 1 and len(exc.groups) > 1:
                # The sink could not say which group: bisect to isolate the bad units.
                half = len(chunk) // 2
                if not _commit_chunk(spec, sink, chunk[:half], book, sleep):
                    book.fail(chunk[half:], book.errors[-1], attempted=False)
                    return False
                return _commit_chunk(spec, sink, chunk[half:], book, sleep)
            book.fail(rejected or chunk, AggregationError(exc.reason), attempted=True)
            chunk = [u for u in chunk if u not in rejected] if rejected else []
            continue
        if not conflicts:
            book.transactions += 1
            return True
        if rounds > len(chunk) + sink.retry.attempts:  # pragma: no cover - defensive
            book.fail(chunk, AggregationError("watermark conflicts did not settle"), attempted=True)
            return True
        chunk = _drop_applied(chunk, conflicts, book)
    return True


def _commit_wave(
    spec: Aggregator,
    sink: Sink,
    runs: list[list[Unit]],
    book: _Ledger,
    sleep: Callable[[float], None],
) -> DDBStreamError | None:
    """Commit chunks that touch disjoint items and groups, concurrently when there are several;
    the error that stopped one of them, if retries ran out."""
    if len(runs) == 1:
        ok = _commit_chunk(spec, sink, runs[0], book, sleep)
        return None if ok else book.errors[-1]
    from concurrent.futures import ThreadPoolExecutor

    books = [_Ledger(book.identifiers) for _ in runs]
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = [
            pool.submit(_commit_chunk, spec, sink, run, sub, sleep)
            for run, sub in zip(runs, books, strict=True)
        ]
    stopped: DDBStreamError | None = None
    for future, sub in zip(futures, books, strict=True):
        future.result()  # a crash in any chunk is the handler's crash (the others have ended)
        book.merge(sub)
    for future, sub in zip(futures, books, strict=True):
        if not future.result():
            stopped = sub.errors[-1]
    return stopped


def _commit_units(
    spec: Aggregator,
    sink: Sink,
    units: list[Unit],
    book: _Ledger,
    sleep: Callable[[float], None],
) -> None:
    inline = _inline(sink)
    width = max(1, int(getattr(sink, "concurrency", 1)))
    chunks = pack(
        units,
        max_actions=sink.max_actions,
        marks=sink.exactly_once and not inline,
        max_items=getattr(sink, "max_items", None) if inline else None,
        separate_groups=width > 1,
    )
    planned = waves(chunks, width=width)
    for position, wave in enumerate(planned):
        runs = []
        for chunk in wave:
            live = [u for u in chunk if u.item not in book.failed_items]
            skipped = [u for u in chunk if u.item in book.failed_items]
            if skipped:
                book.fail(
                    skipped,
                    AggregationError("an earlier part of this item failed"),
                    attempted=False,
                )
            runs.append(live)
        stopped = _commit_wave(spec, sink, runs, book, sleep)
        if stopped is not None:
            rest = [u for later in planned[position + 1 :] for chunk in later for u in chunk]
            if rest:
                book.fail(rest, stopped, attempted=False)
            return


def commit_units(
    spec: Aggregator,
    sink: Sink,
    units: list[Unit],
    *,
    identifiers: Sequence[str],
    sleep: Callable[[float], None] = time.sleep,
) -> AggregateResult:
    """Commit prepared units (their changes' ``index`` points into ``identifiers``)."""
    book = _Ledger(list(identifiers))
    _commit_units(spec, sink, units, book, sleep)
    return book.result()


def run(
    spec: Aggregator,
    sink: Sink,
    records: Sequence[StreamRecord[Any]],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> AggregateResult:
    """Aggregate ``records`` (one delivery, in delivery order) into ``sink``."""
    book = _Ledger([r.item_identifier for r in records])
    changes = _changes(spec, records, book)
    marks = sink.exactly_once and not _inline(sink)
    max_groups = max(1, sink.max_actions - (1 if marks else 0))
    _commit_units(spec, sink, units_of(changes, max_groups=max_groups), book, sleep)
    return book.result()
