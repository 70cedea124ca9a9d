"""Shared helpers of the DynamoDB Local tests of the aggregate sinks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, settings

from ddbstream.aggregate import Aggregator, Retry, Sum
from ddbstream.testing import EventBuilder

FAST = Retry(attempts=4, base=0.0)
FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
B = EventBuilder("Transactions", keys=("TransactionId",))


def where(image: Any) -> bool:
    return image["Status"] == "ok"


def make_tables(dynamodb_client: Any) -> Iterator[Any]:
    created: list[str] = []

    def make(key: str = "Group", *, sort_key: str | None = None) -> str:
        name = f"agg-{uuid.uuid4().hex[:10]}"
        schema = [{"AttributeName": key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": key, "AttributeType": "S"}]
        if sort_key:
            schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": sort_key, "AttributeType": "S"})
        dynamodb_client.create_table(
            TableName=name,
            KeySchema=schema,
            AttributeDefinitions=attrs,
            BillingMode="PAY_PER_REQUEST",
        )
        created.append(name)
        return name

    yield make
    for name in created:
        dynamodb_client.delete_table(TableName=name)


def invoice(tid: str, amount: Any, group: str = "A") -> dict[str, Any]:
    return {"TransactionId": tid, "Group": group, "Amount": amount, "Status": "ok"}


def totals(sink: Any, **measures: Any) -> Aggregator:
    return Aggregator("Group", measures or {"Total": Sum("Amount")}, sink=sink)
