"""The local event source mapping: read a table's stream and invoke a handler as Lambda does.

One thread per readable shard (parents before children), a main loop that discovers new shards,
checkpoints in SQLite after every batch, and a clean stop on SIGINT/SIGTERM after the batch in
flight. ``until_idle=True`` returns once every shard is caught up, for tests and demos, or once
a record has kept failing for ``stuck_after`` attempts.
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
from .._observe import MetricsSink, resolve_metrics
from ._checkpoint import CheckpointStore
from ._config import EventSourceMapping, LocalFunction, LoopSettings, lint_mapping
from ._context import RunnerStats
from ._destination import OnFailure, make_destination
from ._invoke import Invoker
from ._loop import Loop
from ._sandbox import Handler
from ._shards import ShardTracker, describe_stream
from ._windows import WindowKeeper

__all__ = ["STUCK_AFTER", "Runner", "arn_part", "client_for", "run"]

log = logging.getLogger("ddbstream.runner")
_DUMMY = {"aws_access_key_id": "ddbstream", "aws_secret_access_key": "ddbstream"}

#: Attempts after which an ``until_idle`` run gives up on a record that keeps failing.
STUCK_AFTER = 10


def client_for(service: str, *, region: str | None, endpoint_url: str | None) -> Any:
    """A boto3 client for the runner: boto3's region (us-east-1 against a local endpoint) and
    credentials (dummy ones against a local endpoint when there are none).

    Raises:
        UsageError: no region, or no credentials for AWS itself.
    """
    with setup_errors(f"creating a {service} client"):
        session: Any = boto3().session.Session(region_name=region)
        name = session.region_name or ("us-east-1" if endpoint_url else None)
        if name is None:
            raise UsageError("no AWS region: pass region= (--region) or set AWS_REGION")
        creds: Mapping[str, str] = {}
        if session.get_credentials() is None:
            if not endpoint_url:
                raise UsageError("no AWS credentials found (see boto3's credential chain)")
            creds = _DUMMY
        return session.client(service, region_name=name, endpoint_url=endpoint_url, **creds)


def arn_part(arn: str, index: int, default: str) -> str:
    parts = arn.split(":")
    return parts[index] if len(parts) >= 6 and parts[index] else default


class Runner:
    """Drives any Lambda handler ``handler(event, context)`` from a real DynamoDB stream.

    Events are built exactly like Lambda's, and every event source mapping setting of
    :class:`EventSourceMapping` is honoured. Each record read ends up handled, filtered out or
    sent to ``on_failure``; checkpoints let a restart resume where the last run stopped.

    Args:
        handler: the Lambda handler to invoke.
        table_name: the table whose latest stream to read (or give ``stream_arn``).
        stream_arn: the stream to read.
        mapping: the event source mapping settings. Its filter criteria are linted at the
            start of :meth:`run`: an error finding (a filter that never matches, or that AWS
            rejects) refuses to run unless ``allow_lint_errors``; warnings are logged.
        endpoint_url: e.g. DynamoDB Local's ``http://127.0.0.1:8000``.
        region: AWS region for the clients (default: boto3's, or us-east-1 with an endpoint).
        streams_client: a ready boto3 ``dynamodbstreams`` client instead of a new one.
        dynamodb_client: a ready boto3 ``dynamodb`` client instead of a new one.
        checkpoint: SQLite path for checkpoints (``":memory:"``: none survive the process).
        reset_checkpoint: forget the stream's checkpoints first (start over from
            ``starting_position``).
        on_failure: a callable or a JSON-lines file receiving the SQS/SNS shape of on-failure
            records, or a :class:`FailureFolder` receiving the S3 shape (None: log at ERROR).
        function_name: the context's function name.
        timeout: the context's timeout in seconds (a handler that runs longer counts as a
            function error, as on Lambda).
        poll_interval: seconds between GetRecords calls on an idle shard (AWS: 0.25).
        discovery_interval: seconds between DescribeStream calls looking for new shards.
        aws_region: ``awsRegion`` of the records (default: what the stream reports).
        retry_delay: base of the exponential delay before a retry of a failed batch.
        on_status: called with the :class:`RunnerStats` about every ``poll_interval``.
        allow_lint_errors: run filter criteria with error findings anyway.
        metrics: per-batch numbers (records in, processed, failed, filtered, duration, record
            age) as EMF lines (``True``/``"emf"``), to a Powertools ``Metrics`` or a
            ``MetricsSink``; None: EMF when ``DDBSTREAM_METRICS=emf``.
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
        reset_checkpoint: bool = False,
        on_failure: OnFailure = None,
        function_name: str = "ddbstream-local",
        timeout: float = 3.0,
        poll_interval: float = 0.25,
        discovery_interval: float = 10.0,
        aws_region: str | None = None,
        retry_delay: float = 0.05,
        on_status: Callable[[RunnerStats], object] | None = None,
        allow_lint_errors: bool = False,
        metrics: bool | str | MetricsSink | Any | None = None,
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
        self.reset_checkpoint = reset_checkpoint
        self.on_failure = on_failure
        self._send_failure = make_destination(on_failure)
        self.function_name = function_name
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.discovery_interval = discovery_interval
        self.aws_region = aws_region
        self.retry_delay = retry_delay
        self.on_status = on_status
        self.allow_lint_errors = allow_lint_errors
        self.metrics = resolve_metrics(metrics)
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
        return client_for(service, region=self.region, endpoint_url=self.endpoint_url)

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

    def lint(self, stream_view_type: str | None = None) -> None:
        """Lint the mapping's filter criteria (what :meth:`run` does first): log warnings,
        refuse error findings unless ``allow_lint_errors``.

        Raises:
            UsageError: an error finding, naming it and the way out.
        """
        lint_mapping(
            self.mapping, stream_view_type=stream_view_type, allow_errors=self.allow_lint_errors
        )

    # -- running ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the run to stop after the batch in flight (thread-safe)."""
        self._stopping.set()

    def run(
        self, *, until_idle: bool = False, stuck_after: int | None = STUCK_AFTER
    ) -> RunnerStats:
        """Read and invoke until stopped (SIGINT/SIGTERM or :meth:`stop`), the stream is
        disabled and fully read, or with ``until_idle`` every shard is caught up.

        Args:
            until_idle: return once every shard is caught up.
            stuck_after: with ``until_idle``, stop when a record is still failing after this
                many attempts (it is then in :attr:`RunnerStats.stuck`, not checkpointed, and
                logged at ERROR); None retries as the mapping says, which with the default
                ``maximum_retry_attempts=-1`` is until the record expires.

        Returns:
            the run's :class:`RunnerStats`.

        Raises:
            UsageError: the table or stream cannot be found or reached, the filter criteria
                have error findings, or the checkpoint file is not valid for this stream.
            DDBStreamError: the stream keeps failing after retries.
        """
        if stuck_after is not None and stuck_after < 1:
            raise UsageError(f"{stuck_after=} must be at least 1 (or None)")
        self._stopping.clear()
        stream_arn = self.resolve_stream_arn()
        if self._streams is None:
            self._streams = self._client("dynamodbstreams")
        with setup_errors(f"stream {stream_arn}"):
            status, shards = describe_stream(self._streams, stream_arn)
            if self.mapping.filter_criteria is not None:  # the view type sharpens the lint
                head = self._streams.describe_stream(StreamArn=stream_arn, Limit=1)
                self.lint(head.get("StreamDescription", {}).get("StreamViewType"))
        store = CheckpointStore(self.checkpoint)
        try:
            if self.reset_checkpoint:
                log.warning("forgetting the checkpoints of %s in %s", stream_arn, store.path)
                store.forget(stream_arn)
            return self._run(stream_arn, status, shards, store, until_idle, stuck_after)
        finally:
            store.close()

    def _run(
        self,
        stream_arn: str,
        status: str,
        shards: list[Any],
        store: CheckpointStore,
        until_idle: bool,
        stuck_after: int | None,
    ) -> RunnerStats:
        stats = self.stats = RunnerStats()
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
            send_failure=self._send_failure,
            stats=stats,
            windows=windows,
            function=LocalFunction(
                name=self.function_name,
                timeout=self.timeout,
                region=arn_part(stream_arn, 3, "us-east-1"),
                account_id=arn_part(stream_arn, 4, "000000000000"),
            ),
            retry_delay=self.retry_delay,
            stopping=self._stopping,
            stuck_after=stuck_after if until_idle else None,
            metrics=self.metrics,
            clock=self.clock,
        )
        restarted = store.known(stream_arn)
        tracker = ShardTracker(store.finished_shards(stream_arn))
        tracker.update(status, shards)
        loop = Loop(
            LoopSettings(
                self.mapping, self.poll_interval, self.discovery_interval, self.aws_region
            ),
            streams=self._streams,
            stream_arn=stream_arn,
            store=store,
            tracker=tracker,
            invoker=invoker,
            stats=stats,
            stopping=self._stopping,
            initial={s.shard_id for s in shards} if not restarted else set(),
            on_status=self.on_status,
        )
        try:
            with self._signals():
                loop.run(until_idle=until_idle)
        finally:
            self._stopping.set()
            loop.join()
            invoker.close()
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


def run(
    handler: Handler,
    *,
    until_idle: bool = False,
    stuck_after: int | None = STUCK_AFTER,
    table_name: str | None = None,
    stream_arn: str | None = None,
    mapping: EventSourceMapping | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    streams_client: Any = None,
    dynamodb_client: Any = None,
    checkpoint: str | os.PathLike[str] = ":memory:",
    reset_checkpoint: bool = False,
    on_failure: OnFailure = None,
    function_name: str = "ddbstream-local",
    timeout: float = 3.0,
    poll_interval: float = 0.25,
    discovery_interval: float = 10.0,
    aws_region: str | None = None,
    retry_delay: float = 0.05,
    on_status: Callable[[RunnerStats], object] | None = None,
    allow_lint_errors: bool = False,
    metrics: bool | str | MetricsSink | Any | None = None,
    clock: Callable[[], float] = time.time,
) -> RunnerStats:
    """Run ``handler`` on a stream: ``Runner(handler, ...).run(until_idle=..., stuck_after=...)``
    (see :class:`Runner` and :meth:`Runner.run` for every argument).

    Example:
        >>> from ddbstream.runner import run
        >>> run(print, table_name="Orders", endpoint_url="http://127.0.0.1:8000",
        ...     until_idle=True)  # doctest: +SKIP
    """
    runner = Runner(
        handler,
        table_name=table_name,
        stream_arn=stream_arn,
        mapping=mapping,
        endpoint_url=endpoint_url,
        region=region,
        streams_client=streams_client,
        dynamodb_client=dynamodb_client,
        checkpoint=checkpoint,
        reset_checkpoint=reset_checkpoint,
        on_failure=on_failure,
        function_name=function_name,
        timeout=timeout,
        poll_interval=poll_interval,
        discovery_interval=discovery_interval,
        aws_region=aws_region,
        retry_delay=retry_delay,
        on_status=on_status,
        allow_lint_errors=allow_lint_errors,
        metrics=metrics,
        clock=clock,
    )
    return runner.run(until_idle=until_idle, stuck_after=stuck_after)
