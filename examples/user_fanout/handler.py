"""Keep a search copy of the ``Users`` table: each user's ``Name`` and ``Email``, exactly.

``handler`` is a :class:`~ddbstream.project.Projection` of ``Users`` (partition key ``UserId``,
stream ``NEW_AND_OLD_IMAGES``) into the table named by ``USER_SEARCH_TABLE`` (default
``UserSearch``, partition key ``UserId``). Each batch writes every user it touches once (the
user's newest change); the record's SequenceNumber, kept as ``_version`` beside the user, makes
older or repeated records change nothing; a deletion leaves a tombstone in
``<USER_SEARCH_TABLE>Tombstones`` for 48 hours, so a replayed older record cannot bring the user
back. ``audit_handler`` is a second consumer of the same stream, through a
:class:`~ddbstream.Router`: one audit entry per change in ``USER_AUDIT_TABLE``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ddbstream import Image, Router, StreamRecord
from ddbstream.filters import event_name
from ddbstream.project import DynamoDBSink, Projection

#: The projection's mapping: every kind of change (a creation, an update, a deletion).
FILTER_CRITERIA: dict[str, Any] = {
    "Filters": [{"Pattern": '{"eventName":["INSERT","MODIFY","REMOVE"]}'}]
}
#: The audit log's mapping: updates only, 10 records per invocation.
AUDIT_FILTER_CRITERIA: dict[str, Any] = {"Filters": [{"Pattern": '{"eventName":["MODIFY"]}'}]}
BATCH_SIZE = 10
SEARCHED = ("UserId", "Name", "Email")


def tables() -> dict[str, str]:
    """The table names, from the environment."""
    search = os.environ.get("USER_SEARCH_TABLE", "UserSearch")
    return {
        "users": os.environ.get("USERS_TABLE", "Users"),
        "search": search,
        "tombstones": os.environ.get("USER_SEARCH_TOMBSTONES_TABLE", f"{search}Tombstones"),
        "audit": os.environ.get("USER_AUDIT_TABLE", "UserAudit"),
    }


def search_entry(user: Image) -> dict[str, Any]:
    """The search item of a user: its key, name and email, as the source has them."""
    return {name: user[name] for name in SEARCHED if name in user}


@lru_cache(maxsize=8)
def projection(table: str, tombstones: str, endpoint: str | None) -> Projection:
    """The projection into ``table`` (one per table and endpoint; boto3 is created on first
    use)."""
    return Projection(search_entry, sink=DynamoDBSink(table, key="UserId", tombstones=tombstones))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    names = tables()
    search = projection(names["search"], names["tombstones"], os.environ.get("AWS_ENDPOINT_URL"))
    return dict(search.handle(event, context))


audit = Router()


@audit.route(event_name == "MODIFY")
def record_change(record: StreamRecord[Mapping[str, Any]]) -> None:
    """One audit entry per change, keyed by the user and the SequenceNumber: a redelivered
    record writes its own entry again, never a second one."""
    changed = sorted(record.changed_attributes())
    client(os.environ.get("AWS_ENDPOINT_URL")).put_item(
        TableName=tables()["audit"],
        Item={
            "UserId": {"S": record.keys["UserId"]},
            "Seq": {"S": record.sequence_number.zfill(40)},
            "Changed": {"L": [{"S": name} for name in changed]},
            "EventId": {"S": record.event_id},
        },
    )


def audit_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(audit.handle(event, context))


@lru_cache(maxsize=8)
def client(endpoint: str | None) -> Any:
    import boto3

    return boto3.client("dynamodb")


def create_tables(dynamodb: Any) -> None:
    """Create ``Users`` (with its stream), the search table, its tombstone table and the audit
    table, unless they exist; return when they are ready."""
    names = tables()
    _create(dynamodb, names["users"], [("UserId", "HASH")], stream=True)
    _create(dynamodb, names["search"], [("UserId", "HASH")])
    _create(dynamodb, names["audit"], [("UserId", "HASH"), ("Seq", "RANGE")])
    sink = DynamoDBSink(
        names["search"], key="UserId", tombstones=names["tombstones"], client=dynamodb
    )
    sink.create_tombstone_table()


def _create(dynamodb: Any, name: str, keys: list[tuple[str, str]], *, stream: bool = False) -> None:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": n, "KeyType": kind} for n, kind in keys],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n, _ in keys],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):  # it exists already
        dynamodb.create_table(**request)
    dynamodb.get_waiter("table_exists").wait(TableName=name)
