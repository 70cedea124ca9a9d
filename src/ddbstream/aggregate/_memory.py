"""An in-memory sink with the same semantics as the DynamoDB sink, for pure tests.

Transactions are atomic, watermarks are conditions exactly as in DynamoDB, and arithmetic has
DynamoDB's 38-digit limit. A ``fault`` hook sees every transaction before and after it is
applied and may raise: :class:`~ddbstream.aggregate.TransientError` before (a throttled or
conflicting write) or after (the write landed but its response was lost), or any other exception
to simulate a crash of the handler between writes.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .._errors import AggregationError, UsageError
from ._delta import ItemId
from ._sink import GroupRejected, Retry

if TYPE_CHECKING:
    from ._plan import Transaction
    from ._spec import Aggregator

__all__ = ["MemorySink"]

Phase = Literal["before", "after"]
_DEFAULT_RETRY = Retry()


class MemorySink:
    """Aggregates kept in a dict: same atomicity, watermarks and number limits as DynamoDB.

    Args:
        exactly_once: keep a watermark per source item (default). ``False`` is plain
            at-least-once: every redelivery counts again.
        inline_marks: keep the watermarks with the groups (as :class:`GroupLedger` does in
            DynamoDB) instead of as separate ledger entries.
        max_actions: most group writes + watermarks per transaction (DynamoDB: 100).
        retry: backoff for :class:`~ddbstream.aggregate.TransientError` raised by ``fault``.
        fault: ``fault(transaction, phase)`` called with phase ``"before"`` and ``"after"``
            applying each transaction; it may raise to inject faults.
        concurrency: transactions of one batch committed at once, as
            :class:`DynamoDBSink` does (default 1: one after the other, deterministic).

    Example:
        >>> from ddbstream.aggregate import Aggregator, MemorySink, Sum
        >>> from ddbstream.testing import insert, lambda_event
        >>> sink = MemorySink()
        >>> totals = Aggregator(group_by=lambda i: i["InvoiceNumber"],
        ...                     measures={"Total": Sum("Amount")}, sink=sink)
        >>> row = {"InvoiceNumber": "ABC", "TransactionId": "1", "Amount": 100}
        >>> event = lambda_event(insert(row))
        >>> totals.handle(event, None)
        {'batchItemFailures': []}
        >>> totals.snapshot()
        {'ABC': {'Total': Decimal('100')}}
    """

    def __init__(
        self,
        *,
        exactly_once: bool = True,
        inline_marks: bool = False,
        max_actions: int = 100,
        retry: Retry = _DEFAULT_RETRY,
        fault: Callable[[Transaction, Phase], None] | None = None,
        concurrency: int = 1,
    ) -> None:
        if max_actions < 3:
            # one record may touch two groups (a move) and needs its watermark
            raise UsageError(f"{max_actions=} must be at least 3")
        if concurrency < 1:
            raise UsageError(f"{concurrency=} must be at least 1")
        self.concurrency = concurrency
        self._lock = threading.RLock()
        self._exactly_once = exactly_once
        self.inline_marks = inline_marks
        self.max_items = 3 if inline_marks else None
        #: inline watermarks: (group, item) -> last applied sequence number
        self.group_watermarks: dict[tuple[Any, ItemId], int] = {}
        self._max_actions = max_actions
        self._retry = retry
        self.fault = fault
        self.groups: dict[Any, dict[str, Any]] = {}
        self.watermarks: dict[ItemId, int] = {}
        self.commits = 0

    def __repr__(self) -> str:
        inline = ", inline_marks=True" if self.inline_marks else ""
        wide = f", concurrency={self.concurrency!r}" if self.concurrency != 1 else ""
        return f"MemorySink(exactly_once={self._exactly_once!r}{inline}{wide})"

    @property
    def exactly_once(self) -> bool:
        return self._exactly_once

    @property
    def max_actions(self) -> int:
        return self._max_actions

    @property
    def retry(self) -> Retry:
        return self._retry

    def commit(self, spec: Aggregator, tx: Transaction) -> dict[ItemId, int]:
        """Apply ``tx`` atomically (see :class:`~ddbstream.aggregate._sink.Sink`)."""
        if tx.actions > self._max_actions:
            raise AggregationError(f"transaction of {tx.actions} actions > {self._max_actions}")
        if self.fault is not None:
            self.fault(tx, "before")
        with self._lock:
            conflicts = self._apply(spec, tx)
        if not conflicts and self.fault is not None:
            self.fault(tx, "after")
        return conflicts

    def _apply(self, spec: Aggregator, tx: Transaction) -> dict[ItemId, int]:
        conflicts = {
            m.item: self.watermarks[m.item]
            for m in tx.marks
            if m.item in self.watermarks and self.watermarks[m.item] >= m.first
        }
        for group, marks in tx.inline:
            for m in marks:
                stored = self.group_watermarks.get((group, m.item))
                if stored is not None and stored >= m.first:
                    conflicts[m.item] = max(stored, conflicts.get(m.item, stored))
        if conflicts:
            return conflicts
        updated: dict[Any, dict[str, Any]] = {}
        rejected: set[Any] = set()
        reasons: list[str] = []
        for group, delta in tx.groups:
            state = copy.copy(self.groups.get(group, {}))
            try:
                for name, value in delta.items():
                    measure = spec.measures[name]
                    state[name] = measure.combine(state.get(name, measure.zero()), value)
            except AggregationError as exc:
                rejected.add(group)
                reasons.append(exc.reason)
            updated[group] = state
        if rejected:
            raise GroupRejected("; ".join(reasons), groups=frozenset(rejected))
        self.groups.update(updated)
        for mark in tx.marks:
            self.watermarks[mark.item] = mark.last
        for group, marks in tx.inline:
            for m in marks:
                self.group_watermarks[(group, m.item)] = m.last
        self.commits += 1
        return {}

    def snapshot(self, spec: Aggregator) -> dict[Any, dict[str, Any]]:
        """Current results per group; groups whose measures are all at zero are left out."""
        out: dict[Any, dict[str, Any]] = {}
        for group, state in self.groups.items():
            values = {
                name: spec.measures[name].result(value)
                for name, value in state.items()
                if value != spec.measures[name].zero()
            }
            if values:
                out[group] = values
        return out
