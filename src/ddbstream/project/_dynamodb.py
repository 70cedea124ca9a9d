"""The DynamoDB projection target: one conditional write per changed item, versions beside the
items, tombstones in a table of their own.

Every target item carries ``_version``: the SequenceNumber of the change that wrote it, as 40
zero-padded digits (a DynamoDB number keeps only 38). A write lands only over an older version.

- An update of an item the target holds: one ``PutItem`` on condition ``_version < :v``.
- A creation (or an update that finds no item): the item may have been deleted by a newer
  change, so its tombstone is read first (a consistent ``GetItem``, 1 RCU), then the item is put
  on condition that it is absent or older. Between the two, only a change of the same item could
  write a newer tombstone, and Lambda never runs two changes of one source item at once; a target
  item that several source items write (fan-in) should not be deleted by one while another
  creates it (see the docs).
- A deletion: a ``PutItem`` of the tombstone (``_version``, and ``_expires`` for DynamoDB's
  TTL), then a ``DeleteItem`` of the item, each on condition that what is stored is older. The
  tombstone comes first, so a crash between the two leaves a state that a redelivery completes.

DynamoDB's ``BatchWriteItem`` takes no condition, so no cheaper batching is exact: the writes of
a batch are sent one by one (``concurrency`` threads at once).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._aws import AwsError, aws_error, lazy_dynamodb, setup_errors, to_client, transient
from .._codec import serialize_image
from .._errors import ProjectionError, TransientError, UsageError
from ._sink import Change, Failed, Outcome, Superseded, Written, key_names

__all__ = ["DynamoDBSink"]

#: The version attribute of target items and tombstones.
VERSION = "_version"
#: The TTL attribute of tombstones (epoch seconds).
EXPIRES = "_expires"
#: The partition key of the tombstone table: ``<table>#<key as JSON descriptors>``.
TOMBSTONE_KEY = "Target"
_NEWER = "attribute_not_exists(#v) OR #v < :v"
_VALUE_ERRORS = ("size", "empty", "too large", "exceeds", "length", "invalid utf")


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class DynamoDBSink:
    """A projection into a DynamoDB table, exact under redelivery.

    Args:
        table: the target table.
        key: its key attribute names: the partition key, or the partition and the sort key.
        tombstones: where deletions leave their tombstone (the deleted item's key and version,
            deleted by TTL after ``tombstone_hours``), so that an older record delivered later
            cannot bring the item back: ``True`` (default) for a table named
            ``<table>Tombstones``, a table name, or ``False`` for none (then a replay of
            records older than a deletion re-creates the item until the deletion's record
            comes again). Create it with :meth:`create_tombstone_table`.
        tombstone_hours: how long a tombstone lives (default 48: the stream keeps records 24
            hours, so no redelivery is older).
        client: a boto3 DynamoDB client (default: ``boto3.client("dynamodb")`` on first use,
            which honours ``AWS_ENDPOINT_URL``).
        concurrency: writes of one batch sent at once (threads; default 1).
        clock: the current time (tombstone expiry).

    Bookkeeping attributes start with ``_``: ``_version`` in each target item (a text of 40
    digits); tombstones live in their own table, out of the target's scans.

    Example:
        >>> DynamoDBSink("UserSearch", key="UserId")
        DynamoDBSink('UserSearch', key='UserId')
        >>> DynamoDBSink("UserSearch", key="UserId").tombstone_table
        'UserSearchTombstones'
    """

    __slots__ = ("_client", "_clock", "concurrency", "key", "table", "tombstone_hours",
                 "tombstone_table")  # fmt: skip

    def __init__(
        self,
        table: str,
        *,
        key: str | Sequence[str],
        tombstones: str | bool = True,
        tombstone_hours: int = 48,
        client: Any = None,
        concurrency: int = 1,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        if not isinstance(table, str) or not table:
            raise UsageError(f"table must be a table name, got {table!r}")
        if not isinstance(tombstones, (str, bool)) or tombstones == "":
            raise UsageError(f"tombstones must be True, False or a table name, got {tombstones!r}")
        if isinstance(tombstone_hours, bool) or not isinstance(tombstone_hours, int):
            raise UsageError(f"tombstone_hours must be an int, got {tombstone_hours!r}")
        if tombstone_hours < 25:
            raise UsageError(
                f"{tombstone_hours=} must be at least 25: a stream keeps records 24 hours"
            )
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise UsageError(f"{concurrency=} must be an int >= 1")
        self.table = table
        self.key = key_names(key)
        self.tombstone_table: str | None = (
            tombstones
            if isinstance(tombstones, str)
            else f"{table}Tombstones"
            if tombstones
            else None
        )
        self.tombstone_hours = tombstone_hours
        self.concurrency = concurrency
        self._client = client
        self._clock = clock or _now

    def __repr__(self) -> str:
        parts = [repr(self.table), f"key={self.key[0] if len(self.key) == 1 else self.key!r}"]
        if len(self.key) == 1:
            parts[1] = f"key={self.key[0]!r}"
        if self.tombstone_table is None:
            parts.append("tombstones=False")
        elif self.tombstone_table != f"{self.table}Tombstones":
            parts.append(f"tombstones={self.tombstone_table!r}")
        if self.tombstone_hours != 48:
            parts.append(f"tombstone_hours={self.tombstone_hours}")
        if self.concurrency != 1:
            parts.append(f"concurrency={self.concurrency}")
        return f"DynamoDBSink({', '.join(parts)})"

    @property
    def name(self) -> str:
        """The table name."""
        return self.table

    @property
    def client(self) -> Any:
        """The boto3 client (created on first use)."""
        return lazy_dynamodb(self)

    # -- set-up -----------------------------------------------------------------------------

    def create_tombstone_table(self) -> None:
        """Create the tombstone table (on-demand, TTL on ``_expires``) unless it exists."""
        if self.tombstone_table is None:
            return
        client = self.client
        with setup_errors(f"creating the tombstone table {self.tombstone_table}"):
            try:
                client.create_table(
                    TableName=self.tombstone_table,
                    KeySchema=[{"AttributeName": TOMBSTONE_KEY, "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": TOMBSTONE_KEY, "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST",
                )
            except Exception as exc:
                error = aws_error(exc)
                if error is None or error.code != "ResourceInUseException":
                    raise
            client.get_waiter("table_exists").wait(TableName=self.tombstone_table)
            ttl = client.describe_time_to_live(TableName=self.tombstone_table)
            if ttl["TimeToLiveDescription"].get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
                return
            client.update_time_to_live(
                TableName=self.tombstone_table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRES},
            )

    # -- Sink protocol ----------------------------------------------------------------------

    def write(self, changes: Sequence[Change]) -> list[Outcome]:
        """Apply each change if newer than what the table holds (see the module docstring)."""
        client = self.client
        if self.concurrency == 1 or len(changes) < 2:
            return [self._one(change, client) for change in changes]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(changes))) as pool:
            futures = [pool.submit(self._one, change, client) for change in changes]
        return [f.result() for f in futures]

    def _one(self, change: Change, client: Any) -> Outcome:
        try:
            if change.item is None:
                return self._delete(change, client)
            return self._upsert(change, client)
        except (TransientError, ProjectionError) as exc:
            return Failed(exc)

    def _upsert(self, change: Change, client: Any) -> Outcome:
        assert change.item is not None
        if VERSION in change.item:
            return Failed(ProjectionError(f"{VERSION!r} is the sink's bookkeeping attribute"))
        item = {n: to_client(v) for n, v in serialize_image(change.item).items()}
        item[VERSION] = {"S": change.version_text}
        params = _conditional(change, "#v < :v" if self.tombstone_table else _NEWER)
        if not change.created or self.tombstone_table is None:
            answer = self._send(client.put_item, TableName=self.table, Item=item, **params)
            if not isinstance(answer, AwsError):
                return Written()
            stored = _version_of(answer.response.get("Item"))
            if stored is not None or self.tombstone_table is None:
                return Superseded(stored if stored is not None else change.version)
        return self._create(change, item, client)

    def _create(self, change: Change, item: dict[str, Any], client: Any) -> Outcome:
        assert self.tombstone_table is not None
        answer = self._send(
            client.get_item,
            TableName=self.tombstone_table,
            Key=self._tombstone_key(change),
            ConsistentRead=True,
            ProjectionExpression="#v",
            ExpressionAttributeNames={"#v": VERSION},
        )
        deleted = _version_of(answer.get("Item"))
        if deleted is not None and deleted >= change.version:
            return Superseded(deleted)
        params = _conditional(change, _NEWER)
        put = self._send(client.put_item, TableName=self.table, Item=item, **params)
        if not isinstance(put, AwsError):
            return Written()
        stored = _version_of(put.response.get("Item"))
        return Superseded(stored if stored is not None else change.version)

    def _delete(self, change: Change, client: Any) -> Outcome:
        params = _conditional(change, _NEWER)
        if self.tombstone_table is not None:
            expires = int(self._clock().timestamp()) + 3600 * self.tombstone_hours
            tombstone = {
                **self._tombstone_key(change),
                VERSION: {"S": change.version_text},
                EXPIRES: {"N": str(expires)},
            }
            self._send(client.put_item, TableName=self.tombstone_table, Item=tombstone, **params)
        key = {n: to_client(v) for n, v in serialize_image(change.key).items()}
        answer = self._send(client.delete_item, TableName=self.table, Key=key, **params)
        if not isinstance(answer, AwsError):
            return Written()
        stored = _version_of(answer.response.get("Item"))
        return Superseded(stored if stored is not None else change.version)

    def _tombstone_key(self, change: Change) -> dict[str, Any]:
        values = serialize_image(change.key)
        text = json.dumps([values[n] for n in self.key], sort_keys=True, separators=(",", ":"))
        return {TOMBSTONE_KEY: {"S": f"{self.table}#{text}"}}

    def _send(self, fn: Callable[..., Any], /, **params: Any) -> Any:
        """The answer, or the :class:`AwsError` of a failed condition or a cancelled
        transaction; retryable errors raise :class:`TransientError`, a refused value
        :class:`ProjectionError`, anything else :class:`UsageError`."""
        try:
            return fn(**params)
        except Exception as exc:
            error = aws_error(exc)
            if error is None:
                raise
            if error.kind in ("condition", "cancelled"):
                return error
            if error.retryable:
                raise transient(error) from exc
            table = params.get("TableName", self.table)
            if error.kind == "validation" and any(
                w in error.message.lower() for w in _VALUE_ERRORS
            ):
                raise ProjectionError(f"DynamoDB refused the item: {error.message}") from exc
            if error.kind == "not_found":
                tombstones = (
                    ""
                    if self.tombstone_table is None
                    else f", and so must the tombstone table {self.tombstone_table} (create it "
                    "with DynamoDBSink.create_tombstone_table(), or pass tombstones=False)"
                )
                raise UsageError(
                    f"{error.message or error.code}: the table {self.table} must exist{tombstones}"
                ) from exc
            raise UsageError(
                f"DynamoDB refused a write to {table}: {error.code}: {error.message}"
            ) from exc


def _conditional(change: Change, condition: str) -> dict[str, Any]:
    return {
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#v": VERSION},
        "ExpressionAttributeValues": {":v": {"S": change.version_text}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _version_of(item: Mapping[str, Any] | None) -> int | None:
    value = (item or {}).get(VERSION)
    text = value.get("S") if isinstance(value, Mapping) else None
    return int(text) if isinstance(text, str) and text.isdigit() else None
