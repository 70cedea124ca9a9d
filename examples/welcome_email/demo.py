"""``make demo``: the welcome-email tutorial on DynamoDB Local, through the local runner.

Every batch is delivered twice and the whole stream once more; the outbox still holds one
message per new user, to the address of that user's first INSERT.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from handler import create_tables, handler

from ddbstream.runner import EventSourceMapping, Runner


def run_demo(dynamodb: Any, streams: Any) -> str:
    os.environ["USERS_TABLE"] = users = "DemoWelcomeUsers"
    os.environ["OUTBOX_TABLE"] = outbox = "DemoOutbox"
    for name in (users, outbox):
        try:
            dynamodb.delete_table(TableName=name)
            dynamodb.get_waiter("table_not_exists").wait(TableName=name)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
    create_tables(dynamodb)
    out: list[str] = []

    def put(user_id: str, email: str | None) -> None:
        item = {"UserId": {"S": user_id}, "Name": {"S": user_id.title()}}
        if email is not None:
            item["Email"] = {"S": email}
        dynamodb.put_item(TableName=users, Item=item)

    def twice(event: dict[str, Any], context: Any) -> Any:
        handler(event, context)  # a delivery whose answer was lost: Lambda sends it again
        return handler(event, context)

    def step(title: str, function: Any, checkpoint: str) -> None:
        mapping = EventSourceMapping(function_response_types=("ReportBatchItemFailures",))
        stats = Runner(
            function,
            table_name=users,
            mapping=mapping,
            dynamodb_client=dynamodb,
            streams_client=streams,
            checkpoint=checkpoint,
        ).run(until_idle=True)
        rows = dynamodb.scan(TableName=outbox, ConsistentRead=True)["Items"]
        shown = sorted(f"  {r['MessageId']['S']:14} | {r['To']['S']}" for r in rows)
        out.append(f"-- {title}: the runner read {stats.records_read} records")
        out.append(f"{outbox} (MessageId | To):\n" + "\n".join(shown))

    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, "checkpoint.db")
        put("ann", "ann@example.com")
        put("bob", None)  # no email: nobody to welcome
        put("cy", "cy@example.com")
        put("ann", "ann@new.example.com")  # an update, not a new user
        step("three new users, one without email; every batch delivered twice", twice, checkpoint)
        dynamodb.delete_item(TableName=users, Key={"UserId": {"S": "cy"}})
        put("cy", "cy@other.example.com")  # deleted and created again: not welcomed twice
        step("cy deleted and created again", twice, checkpoint)
        step("the whole stream redelivered (no checkpoint)", handler, ":memory:")
    return "\n".join(out)
