"""Two consumers of the Users table's stream, each with its own event source mapping:
FilterCriteria MODIFY only, BatchSize 10.

* ``audit_handler`` keeps an audit log: one item per change in ``UserAudit``, keyed by the user
  and the record's SequenceNumber, so a redelivered record overwrites its own entry.
* ``search_handler`` keeps a search projection in ``UserSearch``: the user's latest name and
  email, written only if the record is newer than what the projection holds (a conditional write
  on the SequenceNumber), so old or repeated records never overwrite newer data.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from ddbstream import StreamEvent

#: Both mappings: MODIFY records only, 10 records per invocation.
FILTER_CRITERIA: dict[str, Any] = {"Filters": [{"Pattern": '{"eventName":["MODIFY"]}'}]}
BATCH_SIZE = 10


@lru_cache(maxsize=1)
def dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb")


def _seq(record: Any) -> str:
    """The SequenceNumber left-padded to 40 digits, so strings compare like numbers."""
    return str(record.sequence_number).zfill(40)


def audit_handler(event: dict[str, Any], context: Any) -> None:
    table = os.environ.get("USER_AUDIT_TABLE", "UserAudit")
    for record in StreamEvent.from_lambda(event):
        changed = sorted(record.changed_attributes())
        dynamodb().put_item(
            TableName=table,
            Item={
                "UserId": {"S": record.keys["UserId"]},
                "Seq": {"S": _seq(record)},
                "Changed": {"L": [{"S": name} for name in changed]},
                "EventId": {"S": record.event_id},
            },
        )


def search_handler(event: dict[str, Any], context: Any) -> None:
    table = os.environ.get("USER_SEARCH_TABLE", "UserSearch")
    client = dynamodb()
    for record in StreamEvent.from_lambda(event):
        new = record.new_image
        if new is None:
            continue
        try:
            client.put_item(
                TableName=table,
                Item={
                    "UserId": {"S": new["UserId"]},
                    "Name": {"S": new.get("Name", "")},
                    "Email": {"S": new.get("Email", "")},
                    "Seq": {"S": _seq(record)},
                },
                ConditionExpression="attribute_not_exists(UserId) OR Seq < :seq",
                ExpressionAttributeValues={":seq": {"S": _seq(record)}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            continue  # the projection already holds this change or a newer one
