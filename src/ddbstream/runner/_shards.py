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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from .._aws import aws_error
from .._errors import DDBStreamError, UsageError
from ._backoff import Backoff

__all__ = [
    "Backoff",
    "Shard",
    "ShardReader",
    "ShardTracker",
    "describe_stream",
    "order_lineage",
]

log = logging.getLogger("ddbstream.runner")

#: AWS's adapter's policy: 50 ms doubling to 1 s, +/- 20%, 10 attempts.
DEFAULT_BACKOFF = Backoff()
#: Checking a checkpoint gives up sooner (DynamoDB Local answers some bad positions with
#: InternalFailure).
_CHECK_BACKOFF = Backoff(max_attempts=3)


def _code(exc: BaseException) -> str | None:
    error = aws_error(exc)
    return None if error is None else error.code


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
    backoff: Backoff = DEFAULT_BACKOFF,
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


Trimmed = Literal["restart", "raise"]
"""What a reader does when its records were trimmed: ``restart`` at TRIM_HORIZON (the records
are lost: a warning names them; a running mapping can do nothing else) or ``raise`` a
:class:`~ddbstream.UsageError` (a redrive of a range that no longer exists)."""


class ShardReader:
    """GetShardIterator/GetRecords on one shard, from a position.

    Args:
        client: a boto3 ``dynamodbstreams`` client (or anything with the same methods).
        stream_arn: the stream.
        shard: the shard to read.
        after: a sequence number already processed; reading resumes right after it.
        at: a sequence number to read from (included), when ``after`` is None.
        starting_position: where to start without either: TRIM_HORIZON or LATEST.
        trimmed: ``"restart"`` or ``"raise"`` (see :data:`Trimmed`).
        backoff: retry policy for throttles and service errors.
    """

    def __init__(
        self,
        client: Any,
        stream_arn: str,
        shard: Shard,
        *,
        after: str | None = None,
        at: str | None = None,
        starting_position: str = "TRIM_HORIZON",
        trimmed: Trimmed = "restart",
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.stream_arn = stream_arn
        self.shard = shard
        self.position = after
        self.at = at
        self.starting_position = starting_position
        self.on_trimmed = trimmed
        self.backoff = backoff
        self.sleep = sleep
        self.iterator: str | None = None
        self.ended = False
        self.trimmed = 0

    def _call(self, operation: str, *, backoff: Backoff | None = None, **kwargs: Any) -> Any:
        method = getattr(
            self.client, "get_shard_iterator" if operation == "GetShardIterator" else "get_records"
        )
        return (backoff or self.backoff).call(method, operation, kwargs, sleep=self.sleep)

    def check_checkpoint(self, sequence_number: str) -> str | None:
        """Why ``sequence_number`` cannot be a record of this shard, or None when it is one.

        The range DescribeStream gives is checked first; then the record itself is read
        (AT_SEQUENCE_NUMBER): a position past the shard's newest record would otherwise make
        DynamoDB Local skip every record written later, silently.
        """
        shard, number = self.shard, int(sequence_number)
        start, end = shard.starting_sequence_number, shard.ending_sequence_number
        if (start and start.isdigit() and number < int(start)) or (
            end and end.isdigit() and number > int(end)
        ):
            return f"that is outside the shard's range {start}..{end or '(open)'}"
        try:
            out = self._call(
                "GetShardIterator",
                backoff=_CHECK_BACKOFF,
                StreamArn=self.stream_arn,
                ShardId=shard.shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=sequence_number,
            )
            iterator = out.get("ShardIterator")
            for _ in range(3):  # GetRecords may return an empty page before the record
                if not iterator:
                    break
                page = self._call(
                    "GetRecords", backoff=_CHECK_BACKOFF, ShardIterator=iterator, Limit=1
                )
                records = page.get("Records") or []
                if records:
                    found = records[0]["dynamodb"]["SequenceNumber"]
                    return (
                        None if found == sequence_number else f"the shard's next record is {found}"
                    )
                iterator = page.get("NextShardIterator")
        except Exception as exc:
            error = aws_error(exc)
            if error is None:
                raise
            if error.kind == "trimmed":
                return None  # long processed and since trimmed: reading reports it
            return f"DynamoDB refuses it ({error.code}: {error.message})"
        return "the shard has no record at or after it"

    def _get_iterator(self) -> str | None:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard.shard_id}
        if self.position is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self.position)
        elif self.at is not None:
            kwargs.update(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=self.at)
        else:
            kwargs["ShardIteratorType"] = self.starting_position
        while True:
            try:
                out = self._call("GetShardIterator", **kwargs)
                return out.get("ShardIterator")  # type: ignore[no-any-return]
            except Exception as exc:
                code = _code(exc)
                if code == "TrimmedDataAccessException" and kwargs["ShardIteratorType"] not in (
                    "TRIM_HORIZON",
                    "LATEST",
                ):
                    self._trimmed()
                    kwargs = {
                        "StreamArn": self.stream_arn,
                        "ShardId": self.shard.shard_id,
                        "ShardIteratorType": "TRIM_HORIZON",
                    }
                    continue
                if code == "ResourceNotFoundException":
                    self._gone(exc)
                    return None
                raise

    def _trimmed(self) -> None:
        where = self.position or self.at or "the shard start"
        if self.on_trimmed == "raise":
            raise UsageError(
                f"shard {self.shard.shard_id} of stream {self.stream_arn}: the records from "
                f"SequenceNumber {where} on were trimmed (DynamoDB keeps stream records for 24 "
                "hours) and cannot be read any more"
            )
        self.trimmed += 1
        log.warning(
            "shard %s: records after %s were trimmed (older than 24 h) before they could be "
            "read; restarting at TRIM_HORIZON",
            self.shard.shard_id,
            where,
        )

    def _gone(self, exc: BaseException) -> None:
        if self.on_trimmed == "raise":
            raise UsageError(
                f"shard {self.shard.shard_id} of stream {self.stream_arn} is gone (the table "
                f"was deleted, or its stream disabled more than 24 hours ago): {exc}"
            ) from exc
        log.warning("shard %s is gone (%s); treating it as ended", self.shard.shard_id, exc)

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
            try:
                out = self._call("GetRecords", ShardIterator=self.iterator, Limit=limit)
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
                    self.position = self.at = None
                    self.starting_position = "TRIM_HORIZON"
                    self.iterator = None
                    continue
                if code == "ResourceNotFoundException":
                    self._gone(exc)
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
