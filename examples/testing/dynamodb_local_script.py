"""Run DynamoDB Local, write to a table with a stream, and feed the records to a handler."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ddbstream import StreamEvent
from ddbstream.testing import DynamoDBLocal, lambda_event, read_stream


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The Lambda handler under test: totals the order amounts it sees inserted."""
    total = Decimal(0)
    for record in StreamEvent.from_lambda(event).records:
        if record.event_name == "INSERT" and record.new_image is not None:
            total += record.new_image["amount"]
    return {"inserted_total": str(total)}


def run(ddb: DynamoDBLocal, table_name: str = "Orders") -> dict[str, Any]:
    client = ddb.client()
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    client.put_item(TableName=table_name, Item={"pk": {"S": "o1"}, "amount": {"N": "12.50"}})
    client.put_item(TableName=table_name, Item={"pk": {"S": "o2"}, "amount": {"N": "7.25"}})
    client.delete_item(TableName=table_name, Key={"pk": {"S": "o1"}})

    records = read_stream(ddb.streams_client(), table_name=table_name)
    return handler(lambda_event(records), None)


if __name__ == "__main__":
    with DynamoDBLocal() as ddb:  # installs the jar on first use, picks a free port
        print(run(ddb))  # {'inserted_total': '19.75'}
