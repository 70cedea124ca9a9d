"""What the aggregation engine needs from a sink: the :class:`Sink` protocol.

A sink applies :class:`~ddbstream._settle.Write` objects to group items: each write
adds a group's coalesced delta and sets one watermark per lane (source item), atomically, on
condition that none of those lanes' records was applied before. It answers one outcome per
write (applied, stale, retried, rejected, deferred: see ``_settle``), and reads totals back with
:meth:`Sink.snapshot`. :class:`~ddbstream.aggregate.MemorySink` and
:class:`~ddbstream.aggregate.DynamoDBSink` are the two shipped; a user sink implements the same
members.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._errors import AggregationError
from .._settle import Outcome, Retry, Write

if TYPE_CHECKING:
    from ._spec import AggregateSpec

__all__ = ["GroupDelta", "GroupRejected", "Retry", "Sink"]

#: The effect of an aggregate write: measure name -> state delta.
GroupDelta = Mapping[str, Any]


class GroupRejected(AggregationError):
    """A sink refused a group's new value (nothing was written for that group)."""


@runtime_checkable
class Sink(Protocol):
    """Where aggregates live (structural type: see :class:`MemorySink` and
    :class:`DynamoDBSink`)."""

    @property
    def name(self) -> str | None:
        """What the sink writes to (a table name), for telling aggregators apart: two
        aggregators of one sink write distinct attributes or the same ones the same way."""

    @property
    def exactly_once(self) -> bool:
        """True when the sink keeps the watermarks (False: every redelivery counts again)."""

    def lanes_per_write(self, spec: AggregateSpec[Any]) -> int:
        """The most lanes (source items) one write of ``spec``'s groups may carry watermarks
        for."""

    @property
    def retry(self) -> Retry:
        """Backoff for writes answered with a retry."""

    def commit(
        self, spec: AggregateSpec[Any], writes: Sequence[Write[GroupDelta]]
    ) -> Sequence[Outcome]:
        """Apply ``writes`` (each atomically, in any order); one outcome per write."""

    def snapshot(self, spec: AggregateSpec[Any]) -> dict[Hashable, dict[str, Any]]:
        """Current results: group -> measure name -> value (groups at zero left out)."""
