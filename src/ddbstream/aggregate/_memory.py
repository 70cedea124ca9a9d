"""An in-memory sink with the same semantics as the DynamoDB sink, for tests.

Each write is atomic, the watermarks are conditions exactly as in DynamoDB, and arithmetic has
DynamoDB's 38-digit limit. A ``fault`` hook sees every write before and after it is applied and
may raise: :class:`~ddbstream.TransientError` before (a throttled or conflicting write) or after
(the write landed but its answer was lost), or any other exception to simulate a crash of the
handler between writes.
"""

from __future__ import annotations

import copy
import threading
import warnings
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from .._errors import AggregationError, TransientError, UsageError
from .._settle import APPLIED, Outcome, Rejected, Retried, Retry, Stale, Write
from ._sink import GroupDelta, GroupRejected

if TYPE_CHECKING:
    from ._spec import AggregateSpec

__all__ = ["MemorySink"]

Phase = Literal["before", "after"]
Fault = Callable[[Write[GroupDelta], Phase], None]
_DEFAULT_RETRY = Retry()


class MemorySink:
    """Aggregates kept in a dict: same atomicity, watermarks and number limits as DynamoDB.

    Args:
        exactly_once: keep a watermark per (source item, group) (default). ``False`` is plain
            at-least-once: every redelivery counts again.
        max_lanes: most source items one write carries watermarks for (DynamoDB's conditions
            allow 100).
        retry: backoff for :class:`~ddbstream.TransientError` raised by ``fault``.
        fault: ``fault(write, phase)``, called with phase ``"before"`` and ``"after"`` applying
            each write; it may raise to inject faults.
        concurrency: writes of one batch applied at once (threads), as :class:`DynamoDBSink`
            does (default 1: one after the other, deterministic).

    Example:
        >>> from ddbstream.aggregate import Aggregator, MemorySink, Sum
        >>> from ddbstream.testing import insert, lambda_event
        >>> sink = MemorySink()
        >>> totals = Aggregator(group_by="InvoiceNumber", measures={"Total": Sum("Amount")},
        ...                     sink=sink)
        >>> row = {"InvoiceNumber": "ABC", "TransactionId": "1", "Amount": 100}
        >>> totals.handle(lambda_event(insert(row)), None)
        {'batchItemFailures': []}
        >>> totals.snapshot()
        {'ABC': {'Total': Decimal('100')}}
    """

    def __init__(
        self,
        *,
        exactly_once: bool = True,
        max_lanes: int = 100,
        retry: Retry = _DEFAULT_RETRY,
        fault: Fault | None = None,
        concurrency: int = 1,
        inline_marks: bool | None = None,
        max_actions: int | None = None,
    ) -> None:
        if inline_marks is not None:
            warnings.warn(
                "MemorySink(inline_marks=...) is deprecated and ignored: watermarks are always "
                "kept per (source item, group), as in DynamoDB",
                DeprecationWarning,
                stacklevel=2,
            )
        if max_actions is not None:
            warnings.warn(
                "MemorySink(max_actions=...) is deprecated; use max_lanes=",
                DeprecationWarning,
                stacklevel=2,
            )
            max_lanes = max_actions
        if max_lanes < 1:
            raise UsageError(f"{max_lanes=} must be at least 1")
        if concurrency < 1:
            raise UsageError(f"{concurrency=} must be at least 1")
        self.concurrency = concurrency
        self._lock = threading.RLock()
        self._exactly_once = exactly_once
        self._max_lanes = max_lanes
        self._retry = retry
        self.fault = fault
        #: group -> measure name -> state
        self.groups: dict[Hashable, dict[str, Any]] = {}
        #: (group, lane) -> sequence number of the lane's last record applied to the group
        self.watermarks: dict[tuple[Hashable, str], int] = {}
        #: writes that landed
        self.commits = 0

    def __repr__(self) -> str:
        parts = [] if self._exactly_once else ["exactly_once=False"]
        if self._max_lanes != 100:
            parts.append(f"max_lanes={self._max_lanes!r}")
        if self.concurrency != 1:
            parts.append(f"concurrency={self.concurrency!r}")
        return f"MemorySink({', '.join(parts)})"

    @property
    def name(self) -> str | None:
        """None: each MemorySink is its own store."""
        return None

    @property
    def exactly_once(self) -> bool:
        return self._exactly_once

    def lanes_per_write(self, spec: AggregateSpec[Any]) -> int:
        """``max_lanes``, whatever the spec."""
        return self._max_lanes

    @property
    def retry(self) -> Retry:
        return self._retry

    def commit(
        self, spec: AggregateSpec[Any], writes: Sequence[Write[GroupDelta]]
    ) -> list[Outcome]:
        """Apply each write atomically; one outcome per write."""
        if self.concurrency == 1 or len(writes) < 2:
            return [self._commit(spec, w) for w in writes]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(writes))) as pool:
            futures = [pool.submit(self._commit, spec, w) for w in writes]
        return [f.result() for f in futures]

    def _commit(self, spec: AggregateSpec[Any], write: Write[GroupDelta]) -> Outcome:
        if self.fault is not None:
            try:
                self.fault(write, "before")
            except TransientError as exc:
                return Retried(exc)
        with self._lock:
            outcome = self._apply(spec, write)
        if outcome is APPLIED and self.fault is not None:
            try:
                self.fault(write, "after")
            except TransientError as exc:
                return Retried(exc)
        return outcome

    def _apply(self, spec: AggregateSpec[Any], write: Write[GroupDelta]) -> Outcome:
        group = write.target
        if self._exactly_once:
            stored = {
                m.lane: self.watermarks[(group, m.lane)]
                for m in write.marks
                if self.watermarks.get((group, m.lane), -1) >= m.first
            }
            if stored:
                return Stale(stored)
        state = copy.copy(self.groups.get(group, {}))
        try:
            for name, value in write.effect.items():
                measure = spec.measures[name]
                state[name] = measure.combine(state.get(name, measure.zero()), value)
        except AggregationError as exc:
            return Rejected(GroupRejected(exc.reason, path=exc.path))
        self.groups[group] = state
        if self._exactly_once:
            for mark in write.marks:
                self.watermarks[(group, mark.lane)] = mark.last
        self.commits += 1
        return APPLIED

    def snapshot(self, spec: AggregateSpec[Any]) -> dict[Hashable, dict[str, Any]]:
        """Current results per group; groups whose measures are all at zero are left out."""
        out: dict[Hashable, dict[str, Any]] = {}
        with self._lock:
            for group, state in self.groups.items():
                values = {
                    name: measure.result(state[name])
                    for name, measure in spec.measures.items()
                    if name in state and state[name] != measure.zero()
                }
                if values:
                    out[group] = values
        return out
