"""Exact aggregates of a DynamoDB table kept from its stream: totals, counts, averages...

Declare what to count with an :class:`Aggregator` (``group_by``, ``measures``, ``where``), choose a
sink (:class:`DynamoDBSink` or :class:`MemorySink`), and call ``aggregator.handle(event,
context)`` from your Lambda handler. Updates and deletes are counted as deltas, records are
coalesced into one write per group per batch, and per-item watermarks make the effect exactly
once under Lambda's at-least-once delivery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach
from ._delta import Change
from ._measures import DYNAMODB_CONTEXT, Average, Count, Latest, Max, Measure, Min, Sum
from ._memory import MemorySink
from ._result import AggregateResult
from ._sink import Retry, Sink, TransientError
from ._spec import Aggregator

if TYPE_CHECKING:
    from ._dynamodb import DynamoDBSink
    from ._ledger import GroupLedger, Ledger
    from ._window import handle_window

__all__ = [
    "AggregateResult",
    "Aggregator",
    "Average",
    "Change",
    "Count",
    "DYNAMODB_CONTEXT",
    "DynamoDBSink",
    "GroupLedger",
    "Latest",
    "Ledger",
    "Max",
    "Measure",
    "MemorySink",
    "Min",
    "Retry",
    "Sink",
    "Sum",
    "TransientError",
    "handle_window",
]

_LAZY = {
    "DynamoDBSink": "._dynamodb",
    "GroupLedger": "._ledger",
    "Ledger": "._ledger",
    "handle_window": "._window",
}

__getattr__, __dir__ = attach(
    __name__,
    _LAZY,
    eager=[
        AggregateResult,
        Aggregator,
        Average,
        Change,
        Count,
        Latest,
        Max,
        Measure,
        MemorySink,
        Min,
        Retry,
        Sink,
        Sum,
    ],
)
