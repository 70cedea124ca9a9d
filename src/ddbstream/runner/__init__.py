"""A local, faithful DynamoDB Streams event source mapping: run any Lambda handler on a stream.

SAM CLI cannot trigger functions from DynamoDB streams, and LocalStack's poller keeps no
checkpoints and ignores shard lineage. :class:`Runner` reads a real stream (DynamoDB Local or
AWS) and invokes ``handler(event, context)`` with the events Lambda would send, honouring every
:class:`EventSourceMapping` setting. What it gives up on goes to an on-failure destination in
AWS's own shapes (:class:`FailureRecord`), and :func:`redrive` runs those records through the
fixed handler again.

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
from ._context import LambdaContext, Retrying, RunnerStats
from ._destination import FailureFolder
from ._failures import FailureRecord, failure_record
from ._redrive import RedriveReport, RedriveResult, redrive
from ._runner import Runner, run

__all__ = [
    "CheckpointStore",
    "EventSourceMapping",
    "FailureFolder",
    "FailureRecord",
    "LambdaContext",
    "RedriveReport",
    "RedriveResult",
    "Retrying",
    "Runner",
    "RunnerStats",
    "failure_record",
    "redrive",
    "run",
]

__getattr__, __dir__ = attach(__name__, {}, eager=[globals()[_name] for _name in __all__])
