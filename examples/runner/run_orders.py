"""Run a handler on a real stream, as Lambda would, from Python: DynamoDB Local here.

``python examples/runner/run_orders.py http://localhost:8000`` (start the server with
``ddbstream local start``).
"""

from __future__ import annotations

import sys
from typing import Any

import boto3

from ddbstream.runner import EventSourceMapping, Runner


def main(endpoint_url: str, table: str = "Orders") -> dict[str, Any]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for pk, customer, amount in [("o1", "ann", 100), ("o2", "bob", 50), ("o3", "ann", 300)]:
        item = {"pk": {"S": pk}, "customer": {"S": customer}, "amount": {"N": str(amount)}}
        client.put_item(TableName=table, Item=item)

    totals: dict[str, int] = {}

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            customer = image["customer"]["S"]
            totals[customer] = totals.get(customer, 0) + int(image["amount"]["N"])

    runner = Runner(
        handler,
        table_name=table,
        endpoint_url=endpoint_url,
        mapping=EventSourceMapping(batch_size=10, maximum_retry_attempts=2),
    )
    stats = runner.run(until_idle=True)  # without until_idle: runs until Ctrl-C
    print(f"{stats.records_succeeded} records handled in {stats.invocations} invocation(s)")
    print(totals)
    return totals


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000")
