"""A local, faithful DynamoDB Streams event source mapping: run any Lambda handler on a stream.

SAM CLI cannot trigger functions from DynamoDB streams, and LocalStack's poller keeps no
checkpoints and ignores shard lineage. :class:`Runner` reads a real stream (DynamoDB Local or
AWS) and invokes ``handler(event, context)`` with the events Lambda would send, honouring every
:class:`EventSourceMapping` setting.

Example:
    >>> from ddbstream.runner import EventSourceMapping
    >>> EventSourceMapping(batch_size=10_001)
    Traceback (most recent call last):
    ...
    ddbstream.LimitExceeded: batch_size=10001 must be 1..10000
"""

from __future__ import annotations

from .._lazy import attach
from ._checkpoint import CheckpointStore
from ._config import EventSourceMapping
from ._context import LambdaContext, RunnerStats
from ._destination import failure_record
from ._runner import Runner, run

__all__ = [
    "CheckpointStore",
    "EventSourceMapping",
    "LambdaContext",
    "Runner",
    "RunnerStats",
    "failure_record",
    "run",
]

__getattr__, __dir__ = attach(
    __name__,
    {},
    eager=[
        CheckpointStore,
        EventSourceMapping,
        LambdaContext,
        Runner,
        RunnerStats,
        failure_record,
        run,
    ],
)
