"""Exact aggregates of a DynamoDB table kept from its stream: totals, counts, averages...

Declare what to count with an :class:`Aggregator` (``group_by``, ``measures``, ``where``), choose a
sink (:class:`DynamoDBSink` or :class:`MemorySink`), and call ``aggregator.handle(event,
context)`` from your Lambda handler. Updates and deletes are counted as deltas, records are
coalesced into one write per group per batch, and watermarks per (source item, group) make the
effect exactly once under Lambda's at-least-once delivery.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from .._apply import AggregateResult
from .._lazy import attach
from .._settle import Retry
from ._aggregator import Aggregator
from ._measures import Additive, Measure, Sequenced
from ._memory import MemorySink
from ._monoids import Latest, Max, Min
from ._sink import Sink
from ._spec import AggregateSpec
from ._sums import Average, Count, Sum

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._dynamodb import DynamoDBSink
    from ._ledger import GroupLedger, Ledger

__all__ = [
    "Additive",
    "AggregateResult",
    "AggregateSpec",
    "Aggregator",
    "Average",
    "Count",
    "DynamoDBSink",
    "GroupLedger",
    "Latest",
    "Ledger",
    "Max",
    "Measure",
    "MemorySink",
    "Min",
    "Retry",
    "Sequenced",
    "Sink",
    "Sum",
]

_LAZY = {
    "DynamoDBSink": "._dynamodb",
    "GroupLedger": "._ledger",
    "Ledger": "._ledger",
}

_attached, __dir__ = attach(
    __name__,
    _LAZY,
    eager=[
        Additive,
        AggregateResult,
        AggregateSpec,
        Aggregator,
        Average,
        Count,
        Latest,
        Max,
        Measure,
        MemorySink,
        Min,
        Retry,
        Sequenced,
        Sink,
        Sum,
    ],
)


def _handle_window(aggregator: Aggregator[Any], event: Any) -> Any:
    """Deprecated: ``aggregator.handle(event, context)`` handles tumbling windows itself."""
    return aggregator.handle(getattr(event, "raw", event), None)


def _transient() -> Any:
    from .._errors import TransientError

    return TransientError


def _change() -> Any:
    from ._spec import Effect

    return Effect


def _context() -> Any:
    from ._measures import DYNAMODB_CONTEXT

    return DYNAMODB_CONTEXT


_DEPRECATED: dict[str, tuple[str, Callable[[], Any]]] = {
    "TransientError": ("use ddbstream.TransientError", _transient),
    "Change": ("it was internal; see AggregateSpec.effect", _change),
    "DYNAMODB_CONTEXT": ("DynamoDB's number rules live in ddbstream.serialize", _context),
    "handle_window": ("aggregator.handle(event, context) handles windows", lambda: _handle_window),
}


def __getattr__(name: str) -> Any:
    deprecated = _DEPRECATED.get(name)
    if deprecated is not None:
        advice, load = deprecated
        warnings.warn(
            f"ddbstream.aggregate.{name} is deprecated and will be removed: {advice}",
            DeprecationWarning,
            stacklevel=2,
        )
        return load()
    return _attached(name)
