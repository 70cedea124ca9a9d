"""The DynamoDB store of once-per-key claims: one item per key, each step one conditional write.

An item is ``{Id, Status, Token, LeaseUntil, ExpiresAt}``: ``Status`` is ``RUNNING``, ``DONE`` or
``FAILED``; ``Token`` names the attempt holding the key; ``LeaseUntil`` (epoch milliseconds) ends
that attempt's lease; ``ExpiresAt`` (epoch seconds, the table's TTL attribute) is when the item
may be forgotten. A claim is a ``PutItem`` on condition that the key is free, which returns the
item it found when it is not (``ReturnValuesOnConditionCheckFailure``), so a claim costs one
write and no read whatever it finds. Completing is an ``UpdateItem`` on condition that the token
is still the attempt's; releasing a ``DeleteItem`` on the same condition.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from .._aws import aws_error, call, lazy_dynamodb, setup_errors, transient
from .._errors import TransientError, UsageError
from ._store import Claim

__all__ = ["DynamoDBStore", "KeyedTable", "create_keyed_table"]

_STATUS = {"RUNNING": "running", "DONE": "done", "FAILED": "failed"}


class KeyedTable:
    """A DynamoDB table with a String partition key, and the client that writes it (created on
    first use with ``boto3.client("dynamodb")``, which honours ``AWS_ENDPOINT_URL``)."""

    __slots__ = ("_client", "_clock", "key", "table")
    _DEFAULT_KEY = ""

    def __init__(self, table: str, *, key: str, client: Any, clock: Callable[[], float]) -> None:
        if not isinstance(table, str) or not table:
            raise UsageError(f"table must be a table name, got {table!r}")
        if not isinstance(key, str) or not key:
            raise UsageError(f"key must be an attribute name, got {key!r}")
        self.table = table
        self.key = key
        self._client = client
        self._clock = clock

    def __repr__(self) -> str:
        extra = "" if self.key == self._DEFAULT_KEY else f", key={self.key!r}"
        return f"{type(self).__name__}({self.table!r}{extra})"

    @property
    def client(self) -> Any:
        """The boto3 client (created on first use)."""
        return lazy_dynamodb(self)


class DynamoDBStore(KeyedTable):
    """Once-per-key claims in a DynamoDB table (partition key ``Id``, a String; TTL on
    ``ExpiresAt``).

    Args:
        table: the table's name.
        key: the name of its partition key.
        client: a boto3 DynamoDB client (default: ``boto3.client("dynamodb")`` on first use,
            which honours ``AWS_ENDPOINT_URL``).
        clock: the time in epoch seconds (default: ``time.time``).

    Every claim, completion and release is one conditional write of an item under 1 KB: 1 WCU
    each (a failed condition is charged too). Create the table with :meth:`create_table`.

    Example:
        >>> DynamoDBStore("Effects")
        DynamoDBStore('Effects')
    """

    __slots__ = ()
    _DEFAULT_KEY = "Id"

    def __init__(
        self,
        table: str,
        *,
        key: str = "Id",
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(table, key=key, client=client, clock=clock)

    def create_table(self, *, billing_mode: str = "PAY_PER_REQUEST") -> None:
        """Create the table (and turn on TTL on ``ExpiresAt``) unless it exists; wait until it
        is active."""
        create_keyed_table(self.client, self.table, self.key, ttl="ExpiresAt", billing=billing_mode)

    def claim(
        self, key: str, *, token: str, lease: float, keep: float | None, take_over: bool
    ) -> Claim:
        now = self._clock()
        item = {
            self.key: {"S": key},
            "Status": {"S": "RUNNING"},
            "Token": {"S": token},
            "LeaseUntil": {"N": str(int((now + lease) * 1000))},
        }
        if keep is not None:
            item["ExpiresAt"] = {"N": str(int(now + keep))}
        condition = "attribute_not_exists(#k) OR #t = :t OR #e < :now"
        names = {"#k": self.key, "#t": "Token", "#e": "ExpiresAt"}
        values = {":t": {"S": token}, ":now": {"N": str(int(now))}}
        if take_over:
            condition += " OR (#s = :running AND #l < :ms)"
            names.update({"#s": "Status", "#l": "LeaseUntil"})
            values[":running"] = {"S": "RUNNING"}
            values[":ms"] = {"N": str(int(now * 1000))}
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            found = self._condition_failed(exc, f"claiming {key!r} in {self.table}")
            return _found(found, now)
        return Claim("claimed")

    def finish(
        self, key: str, *, token: str, status: Literal["done", "failed"], keep: float | None
    ) -> None:
        values: dict[str, Any] = {":t": {"S": token}, ":s": {"S": status.upper()}}
        update = "SET #s = :s"
        names = {"#k": self.key, "#s": "Status", "#t": "Token"}
        if keep is None:
            update += " REMOVE #e"
        else:
            update += ", #e = :e"
            values[":e"] = {"N": str(int(self._clock() + keep))}
        if "#e" in update:
            names["#e"] = "ExpiresAt"
        try:
            self.client.update_item(
                TableName=self.table,
                Key={self.key: {"S": key}},
                UpdateExpression=update,
                ConditionExpression="attribute_exists(#k) AND #t = :t",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            self._condition_failed(exc, f"completing {key!r} in {self.table}")

    def release(self, key: str, *, token: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={self.key: {"S": key}},
                ConditionExpression="#t = :t",
                ExpressionAttributeNames={"#t": "Token"},
                ExpressionAttributeValues={":t": {"S": token}},
            )
        except Exception as exc:
            self._condition_failed(exc, f"releasing {key!r} in {self.table}")

    def _condition_failed(self, exc: Exception, what: str) -> Mapping[str, Any]:
        """The item a failed condition returned; re-raise anything else in ddbstream's terms."""
        error = aws_error(exc)
        if error is None:
            raise exc
        if error.kind == "condition":
            item = error.response.get("Item")
            return item if isinstance(item, Mapping) else {}
        if error.retryable:
            raise transient(error) from exc
        raise UsageError(f"{what}: {error.code}: {error.message}") from exc


def _found(item: Mapping[str, Any], now: float) -> Claim:
    """What a claim that failed its condition found in ``item``."""
    status = _STATUS.get(str(item.get("Status", {}).get("S")))
    if status is None:  # the item vanished between the write and its answer: try again
        raise TransientError("the claim's item changed while it was written")
    if status != "running":
        return Claim(status)  # type: ignore[arg-type]
    lease_until = int(item.get("LeaseUntil", {}).get("N", "0")) / 1000
    return Claim("running", lease_until) if lease_until >= now else Claim("expired")


def create_keyed_table(
    client: Any,
    table: str,
    key: str,
    *,
    ttl: str | None,
    billing: str = "PAY_PER_REQUEST",
    stream: str | None = None,
) -> None:
    """Create ``table`` with the String partition key ``key`` (and a stream of view type
    ``stream``) unless it exists, wait until it is active, and turn TTL on for ``ttl``."""
    params: dict[str, Any] = {}
    if stream is not None:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    with setup_errors(f"creating {table}"):
        try:
            client.create_table(
                TableName=table,
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                BillingMode=billing,
                **params,
            )
        except Exception as exc:
            error = aws_error(exc)
            if error is None or error.code != "ResourceInUseException":
                raise
        call(f"waiting for {table}", client.get_waiter("table_exists").wait, TableName=table)
        if ttl is not None:
            _enable_ttl(client, table, ttl)


def _enable_ttl(client: Any, table: str, attribute: str) -> None:
    described = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if described.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    try:
        client.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
    except Exception as exc:  # another process turned it on meanwhile
        error = aws_error(exc)
        if error is None or error.kind != "validation":
            raise
