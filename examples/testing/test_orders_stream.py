"""A test of a stream handler against DynamoDB Local, using the ddbstream pytest fixtures."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from ddbstream import StreamEvent
from ddbstream.testing import MakeTable, lambda_event, read_stream


def archive_deleted_orders(event: dict[str, Any], context: object) -> None:
    """Code under test: a Lambda handler copying deleted orders into an archive table."""
    archive = boto3.resource("dynamodb").Table(os.environ["ARCHIVE_TABLE"])
    for record in StreamEvent.from_lambda(event).records:
        if record.event_name == "REMOVE" and record.old_image is not None:
            archive.put_item(Item=record.old_image.to_dict())


def test_deleted_orders_are_archived(
    make_table: MakeTable,
    dynamodb_env: dict[str, str],  # boto3.resource("dynamodb") above reaches DynamoDB Local
    dynamodb_client: Any,
    dynamodbstreams_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders, archive = make_table(), make_table(stream_view_type=None)
    monkeypatch.setenv("ARCHIVE_TABLE", archive.name)
    order = {"pk": {"S": "o1"}, "amount": {"N": "12.5"}, "pdf": {"B": b"%PDF"}}
    dynamodb_client.put_item(TableName=orders.name, Item=order)
    dynamodb_client.delete_item(TableName=orders.name, Key={"pk": {"S": "o1"}})

    records = read_stream(dynamodbstreams_client, stream_arn=orders.stream_arn)
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    archive_deleted_orders(lambda_event(records), None)

    archived = dynamodb_client.get_item(TableName=archive.name, Key={"pk": {"S": "o1"}})
    assert archived["Item"] == order
