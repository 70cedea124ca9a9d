"""Router end to end on DynamoDB Local: real stream records fan out to an audit table and a
projection table; a failure stops the batch and the retry from it converges."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from ddbstream import EventName, Router, StreamRecord
from ddbstream.testing import read_stream

pytestmark = pytest.mark.dynamodb_local


class Order(BaseModel):
    pk: str
    status: str
    amount: int


def is_upsert(record: StreamRecord[Any]) -> bool:
    return record.event_name is not EventName.REMOVE


def is_remove(record: StreamRecord[Any]) -> bool:
    return record.event_name is EventName.REMOVE


def build_router(audit: str, projection: str, *, broken: set[str] = frozenset()) -> Router:  # type: ignore[assignment]
    """The user's code: boto3 clients made in the handler module, from the environment."""
    import boto3

    ddb = boto3.client("dynamodb")
    router = Router()

    @router.route(None)
    def write_audit(record: StreamRecord[Any]) -> None:
        # idempotent: keyed by eventID, so a redelivery overwrites itself
        ddb.put_item(
            TableName=audit,
            Item={
                "pk": {"S": record.event_id},
                "order": {"S": record.keys["pk"]},
                "event": {"S": record.event_name.value},
                "seq": {"S": record.sequence_number.zfill(40)},
            },
        )

    @router.route(is_upsert, model=Order)
    def project(record: StreamRecord[Order]) -> None:
        order = record.new
        assert order is not None
        if order.pk in broken:
            raise ConnectionError(f"projection write failed for {order.pk}")
        ddb.put_item(
            TableName=projection,
            Item={
                "pk": {"S": order.pk},
                "status": {"S": order.status},
                "amount": {"N": str(order.amount)},
            },
        )

    @router.route(is_remove)
    def unproject(record: StreamRecord[Any]) -> None:
        ddb.delete_item(TableName=projection, Key={"pk": {"S": record.keys["pk"]}})

    return router


def scan(client: Any, table: str) -> dict[str, dict[str, Any]]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["pk"]["S"]: item for item in items}


def write_history(client: Any, table: str) -> None:
    put: Callable[..., Any] = client.put_item
    put(TableName=table, Item={"pk": {"S": "o1"}, "status": {"S": "NEW"}, "amount": {"N": "10"}})
    put(TableName=table, Item={"pk": {"S": "o2"}, "status": {"S": "NEW"}, "amount": {"N": "20"}})
    client.update_item(
        TableName=table,
        Key={"pk": {"S": "o1"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "SHIPPED"}},
    )
    client.delete_item(TableName=table, Key={"pk": {"S": "o2"}})
    put(TableName=table, Item={"pk": {"S": "o3"}, "status": {"S": "NEW"}, "amount": {"N": "30"}})


def test_fan_out_to_audit_and_projection(
    dynamodb_client: Any, dynamodbstreams_client: Any, make_table: Any, dynamodb_env: Any
) -> None:
    orders, audit, projection = (
        make_table(),
        make_table(stream_view_type=None),
        make_table(stream_view_type=None),
    )
    write_history(dynamodb_client, orders.name)
    records = read_stream(dynamodbstreams_client, table_name=orders.name)
    assert len(records) == 5

    result = build_router(audit.name, projection.name).process({"Records": records})

    assert result.response() == {"batchItemFailures": []}
    assert len(result.processed) == 5
    assert result.route_durations.keys() == {"write_audit", "project", "unproject"}
    audited = scan(dynamodb_client, audit.name)
    assert sorted(a["event"]["S"] for a in audited.values()) == [
        "INSERT",
        "INSERT",
        "INSERT",
        "MODIFY",
        "REMOVE",
    ]
    assert {
        k: (v["status"]["S"], v["amount"]["N"])
        for k, v in scan(dynamodb_client, projection.name).items()
    } == {"o1": ("SHIPPED", "10"), "o3": ("NEW", "30")}


def test_failure_stops_and_the_retry_from_it_converges(
    dynamodb_client: Any, dynamodbstreams_client: Any, make_table: Any, dynamodb_env: Any
) -> None:
    orders, audit, projection = (
        make_table(),
        make_table(stream_view_type=None),
        make_table(stream_view_type=None),
    )
    write_history(dynamodb_client, orders.name)
    records = read_stream(dynamodbstreams_client, table_name=orders.name)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]

    # o2's projection write fails: record 1 (INSERT o2) fails; records 2.. must not run
    response = build_router(audit.name, projection.name, broken={"o2"}).handle({"Records": records})
    assert response == {"batchItemFailures": [{"itemIdentifier": seqs[1]}]}
    assert set(scan(dynamodb_client, projection.name)) == {"o1"}
    assert scan(dynamodb_client, projection.name)["o1"]["status"]["S"] == "NEW"
    assert len(scan(dynamodb_client, audit.name)) == 2  # o1 INSERT, o2 INSERT (before its failure)

    # Lambda retries from the reported sequence number, with the failure gone
    retry = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= int(seqs[1])]
    assert build_router(audit.name, projection.name).handle({"Records": retry}) == {
        "batchItemFailures": []
    }
    assert len(scan(dynamodb_client, audit.name)) == 5  # no duplicate audit entries
    assert {k: v["status"]["S"] for k, v in scan(dynamodb_client, projection.name).items()} == {
        "o1": "SHIPPED",
        "o3": "NEW",
    }
