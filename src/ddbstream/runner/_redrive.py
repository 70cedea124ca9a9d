"""Redrive: run records an event source mapping gave up on through the (fixed) handler again.

Each on-failure record names a shard and a range of SequenceNumbers. The records come from the
S3 shape's saved ``payload`` when there is one (it outlives the stream's 24 hours), else they
are re-read from the stream. The mapping's filter applies again; with ``skip_superseded`` a
record is left out when a later change of the same item (in the range, later in the shard or
in its child shards) passes the filter, since the handler has seen or will see the newer state.
The rest is delivered with the same batching, retry, bisect and partial-response semantics as
the runner; what fails again goes to ``on_failure`` as a new on-failure record.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from .._aws import aws_error
from .._errors import UsageError
from .._shapes import lambda_record_from_get_records
from ._config import EventSourceMapping, LocalFunction, lint_mapping
from ._context import RunnerStats
from ._destination import OnFailure, make_destination
from ._failures import FailureRecord
from ._invoke import Invoker
from ._runner import arn_part, client_for
from ._sandbox import Handler
from ._shards import Shard, ShardReader, describe_stream

__all__ = ["RedriveReport", "RedriveResult", "redrive"]

log = logging.getLogger("ddbstream.runner")

Source = Literal["payload", "stream"]
_EMPTY_PAGES = 10


@dataclasses.dataclass(frozen=True, slots=True)
class RedriveResult:
    """What became of the records of one on-failure record (SequenceNumbers, in order).

    Attributes:
        failure: the on-failure record.
        source: ``"payload"`` (the S3 shape's saved records) or ``"stream"`` (re-read).
        reprocessed: records the handler processed successfully this time.
        failed_again: records given up again (they are in a new on-failure record).
        superseded: records skipped because a later change of the same item exists.
        filtered: records the mapping's filter criteria leave out.
    """

    failure: FailureRecord
    source: Source
    reprocessed: tuple[str, ...] = ()
    failed_again: tuple[str, ...] = ()
    superseded: tuple[str, ...] = ()
    filtered: tuple[str, ...] = ()

    def __str__(self) -> str:
        return (
            f"{self.failure.shard_id} {self.failure.start_sequence_number}.."
            f"{self.failure.end_sequence_number} (from the {self.source}): "
            f"{len(self.reprocessed)} reprocessed, {len(self.failed_again)} failed again, "
            f"{len(self.superseded)} superseded, {len(self.filtered)} filtered out"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class RedriveReport:
    """The outcome of :func:`redrive`: one :class:`RedriveResult` per on-failure record, and the
    new on-failure records of what failed again.

    Example:
        >>> report = RedriveReport(results=())
        >>> report.reprocessed, report.failed_again, report.ok
        (0, 0, True)
    """

    results: tuple[RedriveResult, ...]
    failures: tuple[FailureRecord, ...] = ()

    @property
    def reprocessed(self) -> int:
        """Records processed successfully."""
        return sum(len(r.reprocessed) for r in self.results)

    @property
    def failed_again(self) -> int:
        """Records given up again."""
        return sum(len(r.failed_again) for r in self.results)

    @property
    def superseded(self) -> int:
        """Records skipped as superseded."""
        return sum(len(r.superseded) for r in self.results)

    @property
    def filtered(self) -> int:
        """Records the filter criteria left out."""
        return sum(len(r.filtered) for r in self.results)

    @property
    def ok(self) -> bool:
        """True when nothing failed again."""
        return self.failed_again == 0


def _failures(
    failures: FailureRecord | Iterable[FailureRecord] | str | os.PathLike[str],
) -> list[FailureRecord]:
    if isinstance(failures, FailureRecord):
        return [failures]
    if isinstance(failures, (str, os.PathLike)):
        return FailureRecord.read(failures)
    found = list(failures)
    for item in found:
        if not isinstance(item, FailureRecord):
            raise UsageError(f"failures must be FailureRecords, not {type(item).__name__}")
    return found


def _key(record: Mapping[str, Any]) -> str:
    dynamodb = record.get("dynamodb")
    keys = dynamodb.get("Keys") if isinstance(dynamodb, Mapping) else None
    return json.dumps(keys, sort_keys=True)


def _seq(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


class _Stream:
    """Reads ranges and what follows them, from one stream, through one client."""

    def __init__(self, client: Any, stream_arn: str, aws_region: str | None) -> None:
        self.client = client
        self.stream_arn = stream_arn
        self.aws_region = aws_region
        try:
            _, shards = describe_stream(client, stream_arn)
        except Exception as exc:
            if aws_error(exc) is None:
                raise
            raise UsageError(
                f"stream {stream_arn} cannot be read ({exc}): the table was deleted or its "
                "stream disabled more than 24 hours ago. Records are only in an S3 on-failure "
                "record's payload now"
            ) from exc
        self.shards = {s.shard_id: s for s in shards}

    def _convert(self, raw: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [
            lambda_record_from_get_records(r, self.stream_arn, region=self.aws_region) for r in raw
        ]

    def _reader(self, shard_id: str, **position: Any) -> ShardReader:
        shard = self.shards.get(shard_id) or Shard(shard_id)
        return ShardReader(self.client, self.stream_arn, shard, trimmed="raise", **position)

    def range(self, failure: FailureRecord) -> list[dict[str, Any]]:
        """The records of the failure's range, re-read from the shard."""
        low, high = int(failure.start_sequence_number), int(failure.end_sequence_number)
        reader = self._reader(failure.shard_id, at=failure.start_sequence_number)
        found: list[dict[str, Any]] = []
        empty = 0
        while not reader.ended and empty < _EMPTY_PAGES:
            page = reader.read(1000)
            empty = 0 if page else empty + 1
            found += [r for r in self._convert(page) if low <= int(_seq(r)) <= high]
            if page and int(page[-1]["dynamodb"]["SequenceNumber"]) >= high:
                return found
        if not found or int(_seq(found[-1])) != high:
            raise UsageError(
                f"shard {failure.shard_id}: the records up to SequenceNumber {high} could not be "
                "read back from the stream (the shard no longer holds them)"
            )
        return found

    def later_keys(self, failure: FailureRecord, criteria: Any) -> set[str]:
        """Item keys of the records after the failure's range: later in its shard and in the
        shards descended from it (only records the filter criteria let through)."""
        children: dict[str, list[str]] = {}
        for shard in self.shards.values():
            if shard.parent_shard_id:
                children.setdefault(shard.parent_shard_id, []).append(shard.shard_id)
        keys: set[str] = set()
        todo: list[tuple[str, str | None]] = [(failure.shard_id, failure.end_sequence_number)]
        while todo:
            shard_id, after = todo.pop()
            reader = self._reader(shard_id, after=after)
            empty = 0
            while not reader.ended and empty < 2:
                page = self._convert(reader.read(1000))
                empty = 0 if page else empty + 1
                keys.update(_key(r) for r in page if criteria is None or criteria.matches(r))
            todo += [(child, None) for child in children.get(shard_id, [])]
        return keys


def _split(
    records: Sequence[dict[str, Any]], criteria: Any, later: set[str] | None
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """(to deliver, filtered out, superseded) of a failure's records."""
    kept = [r for r in records if criteria is None or criteria.matches(r)]
    filtered = [_seq(r) for r in records if criteria is not None and not criteria.matches(r)]
    if later is None:
        return kept, filtered, []
    seen = set(later)
    deliver: list[dict[str, Any]] = []
    superseded: list[dict[str, Any]] = []
    for record in reversed(kept):
        key = _key(record)
        (superseded if key in seen else deliver).append(record)
        seen.add(key)
    return deliver[::-1], filtered, [_seq(r) for r in reversed(superseded)]


class _Redrive:
    """One redrive: the settings, the streams read so far, the new on-failure records."""

    def __init__(
        self,
        handler: Handler,
        mapping: EventSourceMapping,
        *,
        on_failure: OnFailure,
        client: Callable[[], Any],
        function: Callable[[str], LocalFunction],
        retry_delay: float,
        aws_region: str | None,
    ) -> None:
        self.handler = handler
        self.criteria = mapping.filter_criteria
        # the filter applies here, before superseded records are left out; the age limit never
        # applies: redriven records are old by nature
        self.mapping = dataclasses.replace(
            mapping, filter_criteria=None, maximum_record_age_in_seconds=-1
        )
        self.send = make_destination(on_failure)
        self.client = client
        self.function = function
        self.retry_delay = retry_delay
        self.aws_region = aws_region
        self.streams: dict[str, _Stream] = {}
        self.failures: list[FailureRecord] = []

    def stream(self, arn: str) -> _Stream:
        if arn not in self.streams:
            self.streams[arn] = _Stream(self.client(), arn, self.aws_region)
        return self.streams[arn]

    def _collect(self, failure: FailureRecord) -> None:
        self.failures.append(failure)
        self.send(failure)

    def one(
        self, failure: FailureRecord, *, from_stream: bool, skip_superseded: bool
    ) -> RedriveResult:
        source: Source = "payload" if failure.payload is not None and not from_stream else "stream"
        records = (
            failure.records
            if source == "payload"
            else self.stream(failure.stream_arn).range(failure)
        )
        later = None
        if skip_superseded:
            later = self.stream(failure.stream_arn).later_keys(failure, self.criteria)
        deliver, filtered, superseded = _split(records or [], self.criteria, later)
        before = len(self.failures)
        invoker = Invoker(
            self.handler,
            self.mapping,
            stream_arn=failure.stream_arn,
            send_failure=self._collect,
            stats=RunnerStats(),
            function=self.function(failure.stream_arn),
            retry_delay=self.retry_delay,
        )
        try:
            invoker.process(failure.shard_id, deliver)
        finally:
            invoker.close()
        ranges = [
            (int(f.start_sequence_number), int(f.end_sequence_number))
            for f in self.failures[before:]
        ]
        again = {_seq(r) for r in deliver if any(lo <= int(_seq(r)) <= hi for lo, hi in ranges)}
        return RedriveResult(
            failure,
            source,
            reprocessed=tuple(_seq(r) for r in deliver if _seq(r) not in again),
            failed_again=tuple(_seq(r) for r in deliver if _seq(r) in again),
            superseded=tuple(superseded),
            filtered=tuple(filtered),
        )


def redrive(
    handler: Handler,
    failures: FailureRecord | Iterable[FailureRecord] | str | os.PathLike[str],
    *,
    mapping: EventSourceMapping | None = None,
    from_stream: bool = False,
    skip_superseded: bool = False,
    endpoint_url: str | None = None,
    region: str | None = None,
    streams_client: Any = None,
    on_failure: OnFailure = None,
    function_name: str = "ddbstream-local",
    timeout: float = 3.0,
    retry_delay: float = 0.05,
    aws_region: str | None = None,
    allow_lint_errors: bool = False,
) -> RedriveReport:
    """Run the records of on-failure records through ``handler`` again, as the mapping would.

    Args:
        handler: the (fixed) Lambda handler.
        failures: :class:`FailureRecord`\\ s, or a file or folder of them (JSON lines, a copy
            of an S3 destination, a :class:`FailureFolder`).
        mapping: the settings to deliver with (default: the runner's, with 2 retries); the
            retries must be finite, tumbling windows are not supported and
            ``maximum_record_age_in_seconds`` does not apply (the records are old by nature).
        from_stream: re-read the records from the stream even when a payload was saved.
        skip_superseded: leave out records whose item changed again later (see the module).
        endpoint_url / region / streams_client: where the stream is.
        on_failure: where records that fail again go (see :class:`Runner`).
        function_name / timeout / retry_delay: as for :class:`Runner`.
        aws_region: ``awsRegion`` of re-read records (default: what the stream reports).
        allow_lint_errors: deliver with filter criteria that have error findings anyway.

    Returns:
        what was reprocessed, skipped and failed again, per on-failure record.

    Raises:
        UsageError: a record's range was trimmed (older than 24 hours) or its stream is gone,
            the mapping retries forever or has tumbling windows, or the criteria have errors.
        DecodeError: an on-failure record (or its payload) cannot be read.

    Example:
        >>> from ddbstream.runner import redrive
        >>> redrive(print, "failures/", endpoint_url="http://127.0.0.1:8000")  # doctest: +SKIP
    """
    mapping = mapping or EventSourceMapping(maximum_retry_attempts=2)
    if mapping.maximum_retry_attempts == -1:
        raise UsageError(
            "a redrive needs finite retries: set maximum_retry_attempts (--max-retries)"
        )
    if mapping.tumbling_window_in_seconds:
        raise UsageError("a redrive cannot rebuild tumbling-window state: use a mapping without")
    lint_mapping(mapping, stream_view_type=None, allow_errors=allow_lint_errors)
    work = _Redrive(
        handler,
        mapping,
        on_failure=on_failure,
        client=lambda: (
            streams_client
            or client_for("dynamodbstreams", region=region, endpoint_url=endpoint_url)
        ),
        function=lambda arn: LocalFunction(
            name=function_name,
            timeout=timeout,
            region=arn_part(arn, 3, "us-east-1"),
            account_id=arn_part(arn, 4, "000000000000"),
        ),
        retry_delay=retry_delay,
        aws_region=aws_region,
    )
    results = []
    for failure in _failures(failures):
        result = work.one(failure, from_stream=from_stream, skip_superseded=skip_superseded)
        log.info("redrive: %s", result)
        results.append(result)
    return RedriveReport(tuple(results), tuple(work.failures))
