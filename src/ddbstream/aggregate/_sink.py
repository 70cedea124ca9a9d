"""What the aggregation engine needs from a sink, and the errors a sink may report.

A sink commits a :class:`~ddbstream.aggregate._plan.Transaction` atomically: either every group
delta and every watermark lands, or nothing does. It answers with the watermarks that were
already at or past a unit's first record (those records were applied by an earlier delivery),
raises :class:`TransientError` for what a retry may fix, and :class:`GroupRejected` for groups
whose new value cannot be stored (for example beyond DynamoDB's 38 digits).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import AggregationError, TransientError

if TYPE_CHECKING:
    from ._delta import ItemId
    from ._plan import Transaction
    from ._spec import Aggregator

__all__ = ["GroupRejected", "Retry", "Sink", "TransientError"]


class GroupRejected(AggregationError):
    """Internal: the sink refused the new value of some groups (nothing was written)."""

    def __init__(self, reason: str, *, groups: frozenset[Any]) -> None:
        super().__init__(reason)
        self.groups = groups

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_rejected, (self.reason, self.groups))


def _rebuild_rejected(reason: str, groups: frozenset[Any]) -> GroupRejected:
    return GroupRejected(reason, groups=groups)


@dataclass(frozen=True, slots=True)
class Retry:
    """Jittered exponential backoff ("full jitter") for transient sink errors.

    Attempt ``n`` (from 0) sleeps a uniform random time in ``[0, min(cap, base * 2**n)]``.

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


class Sink(Protocol):
    """Where aggregates live (structural type; see :class:`MemorySink` and
    :class:`DynamoDBSink`)."""

    @property
    def exactly_once(self) -> bool:
        """True when the sink keeps per-item watermarks (the safe default)."""

    @property
    def max_actions(self) -> int:
        """Most actions (group writes + watermarks) one transaction may hold."""

    @property
    def retry(self) -> Retry: ...

    def commit(self, spec: Aggregator, tx: Transaction) -> dict[ItemId, int]:
        """Apply ``tx`` atomically; return the stored watermarks that blocked it (nothing was
        written then), or ``{}`` on success."""

    def snapshot(self, spec: Aggregator) -> dict[Any, dict[str, Any]]:
        """Current results: group -> measure name -> value."""
