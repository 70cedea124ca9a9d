"""Send each new user one welcome email, exactly once, although Lambda delivers at least once.

The mapping delivers INSERT records only (``FILTER_CRITERIA``). Sending is writing the email to
the ``Outbox`` table with a conditional put keyed by the user: the first delivery creates it, a
redelivery finds it there and does nothing. A mailer drains the outbox; the handler itself never
calls an email API, which could not be undone if the batch were retried.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from ddbstream import StreamEvent

FILTER_CRITERIA: dict[str, Any] = {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]}


@lru_cache(maxsize=1)
def dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outbox = os.environ.get("OUTBOX_TABLE", "Outbox")
    client = dynamodb()
    failures = []
    for record in StreamEvent.from_lambda(event):
        user = record.new_image
        if user is None or "Email" not in user:
            continue
        try:
            client.put_item(
                TableName=outbox,
                Item={
                    "MessageId": {"S": f"welcome#{user['UserId']}"},
                    "To": {"S": user["Email"]},
                    "Subject": {"S": f"Welcome, {user.get('Name', 'friend')}!"},
                    "SourceEventId": {"S": record.event_id},
                },
                ConditionExpression="attribute_not_exists(MessageId)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            continue  # already in the outbox: this is a redelivery
        except Exception:
            failures.append({"itemIdentifier": record.item_identifier})
    return {"batchItemFailures": failures}
