"""The local event source mapping: read a table's stream and invoke a handler as Lambda does.

One thread per readable shard (parents before children), a main loop that discovers new shards,
checkpoints in SQLite after every batch, and a clean stop on SIGINT/SIGTERM after the batch in
flight. ``until_idle=True`` returns once every shard is caught up, for tests and demos.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

from .._aws import boto3, setup_errors
from .._errors import UsageError
from ._checkpoint import CheckpointStore
from ._config import EventSourceMapping
from ._context import RunnerStats
from ._destination import OnFailure, make_destination
from ._invoke import Handler, Invoker
from ._loop import Loop
from ._shards import ShardTracker, describe_stream
from ._windows import WindowKeeper

__all__ = ["Runner", "run"]

log = logging.getLogger("ddbstream.runner")
_DUMMY = {"aws_access_key_id": "ddbstream", "aws_secret_access_key": "ddbstream"}


class Runner:
    """Drives any Lambda handler ``handler(event, context)`` from a real DynamoDB stream.

    Events are built exactly like Lambda's, and every event source mapping setting of
    :class:`EventSourceMapping` is honoured. Each record read ends up handled, filtered out or
    sent to ``on_failure``; checkpoints let a restart resume where the last run stopped.

    Args:
        handler: the Lambda handler to invoke.
        table_name: the table whose latest stream to read (or give ``stream_arn``).
        stream_arn: the stream to read.
        mapping: the event source mapping settings.
        endpoint_url: e.g. DynamoDB Local's ``http://127.0.0.1:8000``.
        region: AWS region for the clients (default: boto3's, or us-east-1 with an endpoint).
        streams_client: a ready boto3 ``dynamodbstreams`` client instead of a new one.
        dynamodb_client: a ready boto3 ``dynamodb`` client instead of a new one.
        checkpoint: SQLite path for checkpoints (``":memory:"``: none survive the process).
        on_failure: a callable or a JSON-lines file receiving on-failure records (None: log).
        function_name: the context's function name.
        timeout: the context's timeout in seconds (a handler that runs longer counts as a
            function error, as on Lambda).
        poll_interval: seconds between GetRecords calls on an idle shard (AWS: 0.25).
        discovery_interval: seconds between DescribeStream calls looking for new shards.
        aws_region: ``awsRegion`` of the records (default: what the stream reports).
        retry_delay: base of the exponential delay before a retry of a failed batch.
        on_status: called with the :class:`RunnerStats` about every ``poll_interval``.
        clock: wall clock in epoch seconds (record age and windows); for tests.

    Example:
        >>> from ddbstream.runner import EventSourceMapping, Runner
        >>> runner = Runner(print, table_name="Orders")
        >>> runner
        Runner(<built-in function print>, table_name='Orders')
    """

    def __init__(
        self,
        handler: Handler,
        *,
        table_name: str | None = None,
        stream_arn: str | None = None,
        mapping: EventSourceMapping | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        streams_client: Any = None,
        dynamodb_client: Any = None,
        checkpoint: str | os.PathLike[str] = ":memory:",
        on_failure: OnFailure = None,
        function_name: str = "ddbstream-local",
        timeout: float = 3.0,
        poll_interval: float = 0.25,
        discovery_interval: float = 10.0,
        aws_region: str | None = None,
        retry_delay: float = 0.05,
        on_status: Callable[[RunnerStats], object] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(handler):
            raise UsageError(f"handler={handler!r} must be callable as handler(event, context)")
        if table_name is None and stream_arn is None:
            raise UsageError("give table_name= or stream_arn=")
        if timeout <= 0 or poll_interval < 0 or discovery_interval <= 0:
            raise UsageError(f"{timeout=}, {poll_interval=} and {discovery_interval=} must be > 0")
        self.handler = handler
        self.table_name = table_name
        self.stream_arn = stream_arn
        self.mapping = mapping or EventSourceMapping()
        self.endpoint_url = endpoint_url
        self.region = region
        self._streams = streams_client
        self._dynamodb = dynamodb_client
        self.checkpoint = checkpoint
        self.on_failure = on_failure
        self.function_name = function_name
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.discovery_interval = discovery_interval
        self.aws_region = aws_region
        self.retry_delay = retry_delay
        self.on_status = on_status
        self.clock = clock
        self.stats = RunnerStats()
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        args = [repr(self.handler)]
        if self.table_name is not None:
            args.append(f"table_name={self.table_name!r}")
        if self.stream_arn is not None:
            args.append(f"stream_arn={self.stream_arn!r}")
        if self.mapping != EventSourceMapping():
            args.append(f"mapping={self.mapping!r}")
        if self.endpoint_url is not None:
            args.append(f"endpoint_url={self.endpoint_url!r}")
        return f"Runner({', '.join(args)})"

    # -- setup ------------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        with setup_errors(f"creating a {service} client"):
            session: Any = boto3().session.Session(region_name=self.region)
            region = session.region_name or ("us-east-1" if self.endpoint_url else None)
            if region is None:
                raise UsageError("no AWS region: pass region= (--region) or set AWS_REGION")
            creds: Mapping[str, str] = {}
            if session.get_credentials() is None:
                if not self.endpoint_url:
                    raise UsageError("no AWS credentials found (see boto3's credential chain)")
                creds = _DUMMY
            return session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, **creds
            )

    def resolve_stream_arn(self) -> str:
        """The stream ARN: given, or the table's ``LatestStreamArn``.

        Raises:
            UsageError: the table does not exist or has no stream enabled.
        """
        if self.stream_arn is not None:
            return self.stream_arn
        if self._dynamodb is None:
            self._dynamodb = self._client("dynamodb")
        with setup_errors(f"table {self.table_name!r}"):
            table = self._dynamodb.describe_table(TableName=self.table_name)["Table"]
        arn = table.get("LatestStreamArn")
        spec = table.get("StreamSpecification") or {}
        if not arn or not spec.get("StreamEnabled", True):
            raise UsageError(
                f"table {self.table_name!r} has no stream: enable one with StreamSpecification"
                "={'StreamEnabled': True, 'StreamViewType': 'NEW_AND_OLD_IMAGES'}"
            )
        self.stream_arn = str(arn)
        return self.stream_arn

    # -- running ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the run to stop after the batch in flight (thread-safe)."""
        self._stopping.set()

    def run(self, *, until_idle: bool = False) -> RunnerStats:
        """Read and invoke until stopped (SIGINT/SIGTERM or :meth:`stop`), the stream is
        disabled and fully read, or with ``until_idle`` every shard is caught up.

        Returns:
            the run's :class:`RunnerStats`.

        Raises:
            UsageError: the table or stream cannot be found or reached.
            DDBStreamError: the stream keeps failing after retries.
        """
        self._stopping.clear()
        stream_arn = self.resolve_stream_arn()
        if self._streams is None:
            self._streams = self._client("dynamodbstreams")
        with setup_errors(f"stream {stream_arn}"):
            status, shards = describe_stream(self._streams, stream_arn)
        store = CheckpointStore(self.checkpoint)
        restarted = store.known(stream_arn)
        stats = self.stats = RunnerStats()
        account = stream_arn.split(":")[4] if stream_arn.count(":") >= 5 else "000000000000"
        windows = None
        if self.mapping.tumbling_window_in_seconds:
            windows = WindowKeeper(
                self.mapping.tumbling_window_in_seconds,
                store=store,
                stream_arn=stream_arn,
                clock=self.clock,
            )
        invoker = Invoker(
            self.handler,
            self.mapping,
            stream_arn=stream_arn,
            send_failure=make_destination(self.on_failure),
            stats=stats,
            windows=windows,
            function_name=self.function_name,
            timeout=self.timeout,
            region=stream_arn.split(":")[3] if stream_arn.count(":") >= 5 else "us-east-1",
            account_id=account,
            retry_delay=self.retry_delay,
            stopping=self._stopping,
            clock=self.clock,
        )
        tracker = ShardTracker(store.finished_shards(stream_arn))
        tracker.update(status, shards)
        initial = {s.shard_id for s in shards} if not restarted else set()
        loop = Loop(self, stream_arn, store, tracker, invoker, windows, initial)
        try:
            with self._signals():
                loop.run(until_idle=until_idle)
        finally:
            self._stopping.set()
            loop.join()
            invoker.close()
            store.close()
        return stats

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: stopping after the batch in flight", signum)
            self._stopping.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def run(handler: Handler, *, until_idle: bool = False, **options: Any) -> RunnerStats:
    """Run ``handler`` on a stream: ``Runner(handler, **options).run(until_idle=...)``.

    Example:
        >>> from ddbstream.runner import run
        >>> run(print, table_name="Orders", endpoint_url="http://127.0.0.1:8000",
        ...     until_idle=True)  # doctest: +SKIP
    """
    return Runner(handler, **options).run(until_idle=until_idle)
