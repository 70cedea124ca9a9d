"""``make demo``: the user fan-out tutorial on DynamoDB Local, through the local runner.

Users are created, renamed, deleted and created again; the runner delivers every batch twice,
then the whole stream once more, and the search table still holds exactly the live users.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from handler import create_tables, handler, tables

from ddbstream.runner import EventSourceMapping, Runner


def run_demo(dynamodb: Any, streams: Any) -> str:
    os.environ["USERS_TABLE"] = "DemoFanoutUsers"
    os.environ["USER_SEARCH_TABLE"] = "DemoUserSearch"
    names = tables()
    for name in (names["users"], names["search"], names["tombstones"], names["audit"]):
        try:
            dynamodb.delete_table(TableName=name)
            dynamodb.get_waiter("table_not_exists").wait(TableName=name)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
    create_tables(dynamodb)
    out: list[str] = []

    def put(user_id: str, name: str, email: str) -> None:
        item = {"UserId": {"S": user_id}, "Name": {"S": name}, "Email": {"S": email}}
        dynamodb.put_item(TableName=names["users"], Item=item)

    def delete(user_id: str) -> None:
        dynamodb.delete_item(TableName=names["users"], Key={"UserId": {"S": user_id}})

    def twice(event: dict[str, Any], context: Any) -> Any:
        handler(event, context)  # a delivery whose answer was lost: Lambda sends it again
        return handler(event, context)

    def step(title: str, function: Any, checkpoint: str) -> None:
        mapping = EventSourceMapping(function_response_types=("ReportBatchItemFailures",))
        stats = Runner(
            function,
            table_name=names["users"],
            mapping=mapping,
            dynamodb_client=dynamodb,
            streams_client=streams,
            checkpoint=checkpoint,
        ).run(until_idle=True)
        rows = dynamodb.scan(TableName=names["search"], ConsistentRead=True)["Items"]
        shown = sorted(
            f"  {r['UserId']['S']:6} | {r['Name']['S']:10} | {r['Email']['S']}" for r in rows
        )
        out.append(f"-- {title}: the runner read {stats.records_read} records")
        out.append(f"{names['search']} (UserId | Name | Email):\n" + "\n".join(shown))

    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, "checkpoint.db")
        put("u1", "Ann", "ann@example.com")
        put("u2", "Bob", "bob@example.com")
        put("u1", "Ann Lee", "ann@example.com")
        delete("u2")
        put("u3", "Cy", "cy@example.com")
        step("five changes, every batch delivered twice", twice, checkpoint)
        delete("u3")
        put("u3", "Cy again", "cy2@example.com")
        step("u3 deleted and created again", twice, checkpoint)
        step("the whole stream redelivered (no checkpoint)", handler, ":memory:")
    out.append("(a deleted user never comes back, whatever is redelivered late)")
    return "\n".join(out)
