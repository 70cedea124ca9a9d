"""Read a whole DynamoDB stream and return its records exactly as Lambda would deliver them.

Used by tests against DynamoDB Local (or a real table): write items, then assert on
``read_stream(...)``, whose records are the dicts a Lambda handler finds in ``event["Records"]``
(``eventSourceARN`` set, binaries as base64 text, ``ApproximateCreationDateTime`` as float epoch
seconds). Shards are read parents before children, so per-item order is preserved across
shard rollovers, as with a Lambda event source mapping.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._aws import aws_error
from .._errors import DecodeError, UsageError
from .._shapes import lambda_record_from_get_records

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

__all__ = ["order_shards", "read_stream"]

_DESCRIBE_LIMIT = 100  # the DescribeStream maximum
_GET_RECORDS_LIMIT = 1000  # the GetRecords maximum


def _sort_key(shard: Mapping[str, Any]) -> tuple[int, str]:
    start = shard.get("SequenceNumberRange", {}).get("StartingSequenceNumber", "")
    return (int(start) if str(start).isdigit() else -1, str(shard["ShardId"]))


def order_shards(shards: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Order DescribeStream shards so that every parent comes before its children.

    A shard whose ``ParentShardId`` is absent, or names a shard missing from the listing (trimmed
    after 24 hours), is a root. Among shards that are ready at the same time the one with the
    lowest ``StartingSequenceNumber`` (then ``ShardId``) comes first, so the result is
    deterministic. A shard listed twice (paging overlap) is kept once.

    Args:
        shards: ``StreamDescription["Shards"]`` entries, from any number of pages.

    Returns:
        The same shard mappings, parents first.

    Raises:
        DecodeError: a shard lacks a ``ShardId``, or the lineage has a cycle.

    Example:
        >>> [s["ShardId"] for s in order_shards([
        ...     {"ShardId": "child", "ParentShardId": "root"}, {"ShardId": "root"}])]
        ['root', 'child']
    """
    by_id: dict[str, Mapping[str, Any]] = {}
    for shard in shards:
        shard_id = shard.get("ShardId") if isinstance(shard, Mapping) else None
        if not isinstance(shard_id, str) or not shard_id:
            raise DecodeError(f"a DescribeStream shard needs a ShardId, got {shard!r}")
        by_id.setdefault(shard_id, shard)
    children: dict[str, list[str]] = {shard_id: [] for shard_id in by_id}
    ready: list[tuple[tuple[int, str], str]] = []
    for shard_id, shard in by_id.items():
        parent = shard.get("ParentShardId")
        if isinstance(parent, str) and parent in by_id and parent != shard_id:
            children[parent].append(shard_id)
        else:
            heapq.heappush(ready, (_sort_key(shard), shard_id))
    ordered: list[Mapping[str, Any]] = []
    while ready:
        _, shard_id = heapq.heappop(ready)
        ordered.append(by_id[shard_id])
        for child in children[shard_id]:
            heapq.heappush(ready, (_sort_key(by_id[child]), child))
    if len(ordered) != len(by_id):
        stuck = sorted(set(by_id) - {s["ShardId"] for s in ordered})
        raise DecodeError(f"shard lineage has a cycle through {stuck}")
    return ordered


def _not_found(exc: Exception) -> bool:
    error = aws_error(exc)
    return error is not None and error.kind == "not_found"


def _latest_stream_arn(client: DynamoDBStreamsClient, table_name: str) -> str:
    streams: list[Mapping[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table_name, "Limit": 100}
    while True:
        page = client.list_streams(**kwargs)
        streams += page.get("Streams", [])
        last = page.get("LastEvaluatedStreamArn")
        if not last:
            break
        kwargs["ExclusiveStartStreamArn"] = last
    if not streams:
        raise UsageError(f"table {table_name!r} has no stream (or does not exist)")
    # Labels are ISO-8601 timestamps, so the greatest one is the current stream.
    return str(max(streams, key=lambda s: str(s.get("StreamLabel", "")))["StreamArn"])


def _describe_all_shards(client: DynamoDBStreamsClient, stream_arn: str) -> list[Any]:
    shards: list[Any] = []
    kwargs: dict[str, Any] = {"StreamArn": stream_arn, "Limit": _DESCRIBE_LIMIT}
    while True:
        try:
            description = client.describe_stream(**kwargs)["StreamDescription"]
        except Exception as exc:
            if _not_found(exc):
                raise UsageError(f"stream {stream_arn!r} does not exist") from exc
            raise
        shards += description.get("Shards", [])
        last = description.get("LastEvaluatedShardId")
        if not last:  # only an absent/empty LastEvaluatedShardId means the end
            return shards
        kwargs["ExclusiveStartShardId"] = last


def _read_shard(
    client: DynamoDBStreamsClient,
    stream_arn: str,
    shard: Mapping[str, Any],
    *,
    max_empty_polls: int,
) -> list[Mapping[str, Any]]:
    closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
    try:
        iterator: str | None = client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    except Exception as exc:
        if _not_found(exc):
            return []  # the shard went away between DescribeStream and now
        raise
    records: list[Mapping[str, Any]] = []
    empty_polls = 0
    while iterator:
        try:
            page = client.get_records(ShardIterator=iterator, Limit=_GET_RECORDS_LIMIT)
        except Exception as exc:
            # DynamoDB Local answers "Invalid ShardId in ShardIterator" at a shard's end; the
            # AWS adapter treats ResourceNotFound on a shard as its end too.
            if _not_found(exc):
                break
            raise
        batch = page.get("Records", [])
        records += batch
        iterator = page.get("NextShardIterator")
        if batch:
            empty_polls = 0
            continue
        empty_polls += 1
        if not closed and (records or empty_polls >= max_empty_polls):
            break  # an open shard never ends: stop at the first empty page after data
        if closed and empty_polls >= max_empty_polls * 100:
            break  # a closed shard ends with a null iterator; this only bounds a bad server
    return records


def read_stream(
    client: DynamoDBStreamsClient,
    *,
    table_name: str | None = None,
    stream_arn: str | None = None,
    region: str | None = None,
    max_empty_polls: int = 3,
) -> list[dict[str, Any]]:
    """Read every record of a DynamoDB stream, in the exact shape of a Lambda event's ``Records``.

    Lists all shards (paged ``DescribeStream``), orders them parents before children
    (:func:`order_shards`), and reads each from ``TRIM_HORIZON``: a closed shard until GetRecords
    stops returning a ``NextShardIterator``, an open one until an empty page after data (or
    ``max_empty_polls`` empty pages). Each record goes through
    ``lambda_record_from_get_records``, so ``eventSourceARN`` is set, binaries are base64 text,
    ``ApproximateCreationDateTime`` is a float, and DynamoDB Local's TTL deletions read as
    ``REMOVE`` with the DynamoDB service ``userIdentity``, as AWS sends them.

    Meant for tests: on DynamoDB Local records are readable as soon as the write returns. On AWS
    an open shard can answer empty pages before its data, so raise ``max_empty_polls`` there.

    Args:
        client: a boto3 ``dynamodbstreams`` client.
        table_name: read the table's latest stream (exactly one of this and ``stream_arn``).
        stream_arn: the stream to read.
        region: ``awsRegion`` to put in the records (DynamoDB Local reports ``ddblocal``).
        max_empty_polls: empty GetRecords pages to accept on an open shard before giving up.

    Returns:
        Lambda-shaped record dicts, shard by shard, in sequence order within each shard.

    Raises:
        UsageError: not exactly one of ``table_name``/``stream_arn``, or no such stream.

    Example:
        >>> records = read_stream(ddb.streams_client(), table_name="Orders")  # doctest: +SKIP
        >>> handler(lambda_event(records), None)  # doctest: +SKIP
    """
    if (table_name is None) == (stream_arn is None):
        raise UsageError(f"pass exactly one of {table_name=} and {stream_arn=}")
    if max_empty_polls < 1:
        raise UsageError(f"{max_empty_polls=} must be at least 1")
    if stream_arn is None:
        assert table_name is not None
        stream_arn = _latest_stream_arn(client, table_name)
    out: list[dict[str, Any]] = []
    for shard in order_shards(_describe_all_shards(client, stream_arn)):
        for record in _read_shard(client, stream_arn, shard, max_empty_polls=max_empty_polls):
            out.append(lambda_record_from_get_records(record, stream_arn, region=region))
    return out
