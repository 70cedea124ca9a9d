"""Send each new user one welcome email, exactly once, although Lambda delivers at least once.

The mapping delivers the INSERTs of ``Users`` that carry an ``Email`` (``FILTER_CRITERIA``; the
route has the same condition, so the handler is right without the filter too). The handler
does not call an email API, which a redelivered batch would call again: it records the email
in the ``Outbox`` table under ``welcome#<UserId>``. The first delivery records it; a
redelivery, a replay, or the same user deleted and created again finds it there and records
nothing. The Router keeps the stream's order and stops at the first failure. ``sender.py``
delivers the outbox's messages.
"""

from __future__ import annotations

import contextlib
import os
from functools import lru_cache
from typing import Any

from ddbstream import Router, StreamRecord
from ddbstream.filters import event_name, new_image
from ddbstream.once import DynamoDBOutbox

NEW_USER_WITH_EMAIL = (event_name == "INSERT") & new_image("Email", descriptor="S").exists()
FILTER_CRITERIA: dict[str, Any] = NEW_USER_WITH_EMAIL.to_criteria().to_dict()

router = Router()


@lru_cache(maxsize=1)
def dynamodb() -> Any:
    """The DynamoDB client, created on first use (it honours ``AWS_ENDPOINT_URL``)."""
    import boto3

    return boto3.client("dynamodb")


def outbox() -> DynamoDBOutbox:
    return DynamoDBOutbox(os.environ.get("OUTBOX_TABLE", "Outbox"), client=dynamodb())


@router.route(NEW_USER_WITH_EMAIL)
def welcome(record: StreamRecord) -> None:
    user = record.require_new()
    outbox().put(
        f"welcome#{user['UserId']}",
        {
            "To": user["Email"],
            "Subject": f"Welcome, {user.get('Name', 'friend')}!",
            "SourceEventId": record.event_id,
        },
    )


def handler(event: dict[str, Any], context: Any) -> Any:
    return router.handle(event, context)


def create_tables(client: Any) -> None:
    """Create ``Users`` (with its stream) and the outbox, unless they exist."""
    users = os.environ.get("USERS_TABLE", "Users")
    with contextlib.suppress(client.exceptions.ResourceInUseException):
        client.create_table(
            TableName=users,
            AttributeDefinitions=[{"AttributeName": "UserId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "UserId", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
    client.get_waiter("table_exists").wait(TableName=users)
    DynamoDBOutbox(os.environ.get("OUTBOX_TABLE", "Outbox"), client=client).create_table()
