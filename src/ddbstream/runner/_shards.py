"""Reading a DynamoDB stream's shards in lineage order, through any ``dynamodbstreams`` client.

DescribeStream is paged (boto3 has no paginator for it), shards are handed out parents before
children (DynamoDB's ordering rule for items that move between shards), new shards are found
while running, an expired iterator is replaced from ``AFTER_SEQUENCE_NUMBER`` of the last record
handed out, and throttling or service errors are retried with jittered exponential backoff, as
AWS's own Kinesis adapter does. Trimmed data cannot be read any more: the reader logs a warning
naming the shard and the last sequence number it had, and restarts at ``TRIM_HORIZON``.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .._aws import aws_error
from .._errors import DDBStreamError

__all__ = [
    "Backoff",
    "Shard",
    "ShardReader",
    "ShardTracker",
    "describe_stream",
    "order_lineage",
]

log = logging.getLogger("ddbstream.runner")


def _code(exc: BaseException) -> str | None:
    error = aws_error(exc)
    return None if error is None else error.code


R = TypeVar("R")


@dataclasses.dataclass(frozen=True, slots=True)
class Backoff:
    """Jittered exponential backoff: ``base * 2**n`` capped at ``cap``, +/- ``jitter``.

    Args:
        base: first delay in seconds.
        cap: largest delay in seconds.
        jitter: relative jitter (0.2 is +/- 20%).
        max_attempts: calls before giving up; None retries forever.
    """

    base: float = 0.05
    cap: float = 1.0
    jitter: float = 0.2
    max_attempts: int | None = 10

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        raw = min(self.cap, self.base * (2 ** min(attempt, 30)))
        return float(max(0.0, raw * (1 + random.uniform(-self.jitter, self.jitter))))

    def call(
        self,
        fn: Callable[..., R],
        what: str,
        kwargs: Mapping[str, Any],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> R:
        """Call ``fn`` and retry it on throttling and service errors.

        Raises:
            DDBStreamError: the call still fails after ``max_attempts``.
        """
        attempt = 0
        while True:
            try:
                return fn(**kwargs)
            except Exception as exc:
                error = aws_error(exc)
                if error is None or not error.retryable:
                    raise
                attempt += 1
                if self.max_attempts is not None and attempt >= self.max_attempts:
                    raise DDBStreamError(
                        f"{what} still fails after {attempt} attempts: {exc}"
                    ) from exc
                delay = self.delay(attempt - 1)
                log.debug("%s: %s, retrying in %.2f s", what, error.code, delay)
                sleep(delay)


@dataclasses.dataclass(frozen=True, slots=True)
class Shard:
    """One shard of a stream, as DescribeStream lists it (no ending number: still open)."""

    shard_id: str
    parent_shard_id: str | None = None
    starting_sequence_number: str | None = None
    ending_sequence_number: str | None = None

    @property
    def closed(self) -> bool:
        """True when the shard takes no more records."""
        return self.ending_sequence_number is not None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Shard:
        """Build from a DescribeStream ``Shards`` entry."""
        seq = data.get("SequenceNumberRange") or {}
        return cls(
            shard_id=str(data["ShardId"]),
            parent_shard_id=data.get("ParentShardId"),
            starting_sequence_number=seq.get("StartingSequenceNumber"),
            ending_sequence_number=seq.get("EndingSequenceNumber"),
        )


def _seq_key(shard: Shard) -> tuple[int, str]:
    start = shard.starting_sequence_number
    return (int(start) if start and start.isdigit() else 0, shard.shard_id)


def order_lineage(shards: Iterable[Shard]) -> list[Shard]:
    """Order shards so that every parent comes before its children.

    A parent that is not in ``shards`` (trimmed, or outside the page) counts as done. Among
    shards whose parents are placed, the lower starting sequence number comes first.

    Example:
        >>> a, b = Shard("a"), Shard("b", parent_shard_id="a")
        >>> [s.shard_id for s in order_lineage([b, a])]
        ['a', 'b']
    """
    by_id = {s.shard_id: s for s in shards}
    children: dict[str, list[Shard]] = {}
    roots: list[Shard] = []
    for shard in by_id.values():
        parent = shard.parent_shard_id
        if parent and parent in by_id and parent != shard.shard_id:
            children.setdefault(parent, []).append(shard)
        else:
            roots.append(shard)
    out: list[Shard] = []
    frontier = sorted(roots, key=_seq_key)
    while frontier:
        shard = frontier.pop(0)
        out.append(shard)
        frontier.extend(children.pop(shard.shard_id, []))
        frontier.sort(key=_seq_key)
    for rest in children.values():  # a parent cycle: cannot happen on AWS; keep every shard
        out.extend(sorted(rest, key=_seq_key))
    return out


def describe_stream(
    client: Any,
    stream_arn: str,
    *,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[str, list[Shard]]:
    """Page through DescribeStream; return the stream status and every shard listed."""
    shards: list[Shard] = []
    status = "ENABLED"
    start: str | None = None
    while True:
        kwargs: dict[str, Any] = {"StreamArn": stream_arn, "Limit": 100}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        desc = backoff.call(client.describe_stream, "DescribeStream", kwargs, sleep=sleep)
        body = desc["StreamDescription"]
        status = body.get("StreamStatus", status)
        shards.extend(Shard.from_api(s) for s in body.get("Shards", []))
        start = body.get("LastEvaluatedShardId")
        if not start:
            return status, shards


class ShardTracker:
    """Which shards exist, which are finished, and which may be read now (lineage rule).

    A shard is ready when it is not finished and its parent is finished or unknown.
    """

    def __init__(self, finished: Iterable[str] = ()) -> None:
        self.shards: dict[str, Shard] = {}
        self.finished: set[str] = set(finished)
        self.status = "ENABLED"

    def update(self, status: str, shards: Sequence[Shard]) -> list[Shard]:
        """Record a DescribeStream result; return the shards not seen before, in lineage order."""
        self.status = status
        new = [s for s in shards if s.shard_id not in self.shards]
        for shard in shards:
            self.shards[shard.shard_id] = shard
        return [s for s in order_lineage(self.shards.values()) if s in new]

    def ready(self) -> list[Shard]:
        """Unfinished shards whose parent is finished or unknown, parents first."""
        out = []
        for shard in order_lineage(self.shards.values()):
            if shard.shard_id in self.finished:
                continue
            parent = shard.parent_shard_id
            if parent and parent in self.shards and parent not in self.finished:
                continue
            out.append(shard)
        return out

    def finish(self, shard_id: str) -> None:
        """Mark a shard read to its end and fully processed."""
        self.finished.add(shard_id)

    @property
    def done(self) -> bool:
        """True when the stream is disabled and every known shard is finished."""
        return self.status != "ENABLED" and all(s in self.finished for s in self.shards)


class ShardReader:
    """GetShardIterator/GetRecords on one shard, resuming after ``after`` when given.

    Args:
        client: a boto3 ``dynamodbstreams`` client (or anything with the same methods).
        stream_arn: the stream.
        shard: the shard to read.
        after: a sequence number already processed; reading resumes right after it.
        starting_position: where to start without ``after``: TRIM_HORIZON or LATEST.
        backoff: retry policy for throttles and service errors.
    """

    def __init__(
        self,
        client: Any,
        stream_arn: str,
        shard: Shard,
        *,
        after: str | None = None,
        starting_position: str = "TRIM_HORIZON",
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.stream_arn = stream_arn
        self.shard = shard
        self.position = after
        self.starting_position = starting_position
        self.backoff = backoff
        self.sleep = sleep
        self.iterator: str | None = None
        self.ended = False
        self.trimmed = 0

    def _get_iterator(self) -> str | None:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard.shard_id}
        if self.position is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self.position)
        else:
            kwargs["ShardIteratorType"] = self.starting_position
        while True:
            try:
                out = self.backoff.call(
                    self.client.get_shard_iterator,
                    "GetShardIterator",
                    kwargs,
                    sleep=self.sleep,
                )
                return out.get("ShardIterator")  # type: ignore[no-any-return]
            except Exception as exc:
                code = _code(exc)
                if code == "TrimmedDataAccessException" and self.position is not None:
                    self._trimmed()
                    kwargs = {
                        "StreamArn": self.stream_arn,
                        "ShardId": self.shard.shard_id,
                        "ShardIteratorType": "TRIM_HORIZON",
                    }
                    continue
                if code == "ResourceNotFoundException":
                    log.warning(
                        "shard %s is gone (%s); treating it as ended", self.shard.shard_id, exc
                    )
                    return None
                raise

    def _trimmed(self) -> None:
        self.trimmed += 1
        log.warning(
            "shard %s: records after %s were trimmed (older than 24 h) before they could be "
            "read; restarting at TRIM_HORIZON",
            self.shard.shard_id,
            self.position or "the shard start",
        )

    def read(self, limit: int = 1000) -> list[Mapping[str, Any]]:
        """One GetRecords call (``limit`` 1..1000); [] when nothing came back.

        Sets :attr:`ended` when the shard is closed and fully read.
        """
        if self.ended:
            return []
        for _ in range(5):
            if self.iterator is None:
                self.iterator = self._get_iterator()
                if self.iterator is None:
                    self.ended = True
                    return []
            iterator = self.iterator
            try:
                out = self.backoff.call(
                    self.client.get_records,
                    "GetRecords",
                    {"ShardIterator": iterator, "Limit": limit},
                    sleep=self.sleep,
                )
            except Exception as exc:
                code = _code(exc)
                if code == "ExpiredIteratorException" or (
                    code == "ValidationException" and "iterator" in str(exc).lower()
                ):
                    log.info(
                        "shard %s: iterator expired, resuming after %s",
                        self.shard.shard_id,
                        self.position,
                    )
                    self.iterator = None
                    continue
                if code == "TrimmedDataAccessException":
                    self._trimmed()
                    self.position = None
                    self.starting_position = "TRIM_HORIZON"
                    self.iterator = None
                    continue
                if code == "ResourceNotFoundException":
                    log.warning(
                        "shard %s is gone (%s); treating it as ended", self.shard.shard_id, exc
                    )
                    self.ended = True
                    return []
                raise
            records = list(out.get("Records") or ())
            if records:
                self.position = records[-1]["dynamodb"]["SequenceNumber"]
            self.iterator = out.get("NextShardIterator")
            if self.iterator is None:
                self.ended = True
            return records
        raise DDBStreamError(f"shard {self.shard.shard_id}: could not get a working iterator")
