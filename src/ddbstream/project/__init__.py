"""Projections: keep a copy of a DynamoDB table's items somewhere else, exactly, from its stream.

Write a function from a source item's image to its target item (or items, or ``None``), choose a
sink (:class:`DynamoDBSink`, :class:`MemorySink`, or your own :class:`Sink`: a search index, a
SQL table), and call ``projection.handle(event, context)`` from your Lambda handler. Each batch
writes every target item it touches once (its newest change); versions (the records'
SequenceNumbers) and tombstones make sure that duplicates, replays and crashes never bring
older data back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach
from ._memory import MemorySink
from ._projection import Projection
from ._result import ProjectionResult
from ._sink import Change, Failed, Outcome, Sink, Superseded, Written, version_text

if TYPE_CHECKING:
    from ._dynamodb import DynamoDBSink

__all__ = [
    "Change",
    "DynamoDBSink",
    "Failed",
    "MemorySink",
    "Outcome",
    "Projection",
    "ProjectionResult",
    "Sink",
    "Superseded",
    "Written",
    "version_text",
]

__getattr__, __dir__ = attach(
    __name__,
    {"DynamoDBSink": "._dynamodb"},
    eager=[
        Change,
        Failed,
        MemorySink,
        Projection,
        ProjectionResult,
        Sink,
        Superseded,
        Written,
        version_text,
    ],
)
