"""The outbox records a message once per id (the first one wins), on both outboxes, and the
DynamoDB one rides out throttling and lost answers (faults injected into botocore)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ddbstream import EncodeError, TransientError, UsageError
from ddbstream.aggregate import Retry
from ddbstream.once import DynamoDBOutbox, MemoryOutbox, Outbox

from ._faults import PutFaults


def stored(client: Any, table: str) -> dict[str, dict[str, Any]]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["MessageId"]["S"]: i for i in items}


def test_the_first_message_of_an_id_wins(make_outbox: Callable[[], Outbox]) -> None:
    outbox = make_outbox()
    assert outbox.put("welcome#u1", {"To": "ann@example.com"}) is True
    assert outbox.put("welcome#u1", {"To": "ann@new.example.com"}) is False
    assert outbox.put("welcome#u2", {"To": "bob@example.com", "Lines": [1, 2]}) is True


def test_the_dynamodb_outbox_stores_the_message_as_its_item(
    dynamodb_client: Any, outbox_table: str
) -> None:
    outbox = DynamoDBOutbox(outbox_table, client=dynamodb_client, clock=lambda: 0.0)
    outbox.put("welcome#u1", {"To": "ann@example.com", "Blob": b"\x00\x01"})
    assert stored(dynamodb_client, outbox_table) == {
        "welcome#u1": {
            "MessageId": {"S": "welcome#u1"},
            "To": {"S": "ann@example.com"},
            "Blob": {"B": b"\x00\x01"},
            "CreatedAt": {"S": "1970-01-01T00:00:00.000+00:00"},
        }
    }


def test_bad_messages_are_refused_before_anything_is_written(
    make_outbox: Callable[[], Outbox],
) -> None:
    outbox = make_outbox()
    with pytest.raises(UsageError, match="non-empty string"):
        outbox.put("", {"To": "x"})
    with pytest.raises(UsageError, match="sets it to the message id"):
        outbox.put("m", {"MessageId": "other"})
    with pytest.raises(EncodeError):
        outbox.put("m", {"Amount": 1.5})
    assert outbox.put("m", {"To": "x"}) is True


def test_an_item_over_400_kb_is_an_encode_error(dynamodb_client: Any, outbox_table: str) -> None:
    outbox = DynamoDBOutbox(outbox_table, client=dynamodb_client)
    with pytest.raises(EncodeError, match="size"):
        outbox.put("big", {"Body": "x" * 410_000})


def test_throttling_and_lost_answers_leave_one_message(
    dynamodb_client: Any, outbox_table: str
) -> None:
    outbox = DynamoDBOutbox(outbox_table, client=dynamodb_client, retry=Retry(base=0.0))
    faults = PutFaults(dynamodb_client, ["throttle", "throttle", "lost"])
    try:
        assert outbox.put("welcome#u1", {"To": "a"}) is False  # its own lost write, found
    finally:
        faults.close()
    assert list(stored(dynamodb_client, outbox_table)) == ["welcome#u1"]


def test_throttled_beyond_the_retries_is_a_transient_error(
    dynamodb_client: Any, outbox_table: str
) -> None:
    outbox = DynamoDBOutbox(outbox_table, client=dynamodb_client, retry=Retry(3, base=0.0))
    faults = PutFaults(dynamodb_client, ["throttle"] * 3)
    try:
        with pytest.raises(TransientError, match="after 3 attempts"):
            outbox.put("welcome#u1", {"To": "a"})
    finally:
        faults.close()
    assert stored(dynamodb_client, outbox_table) == {}


def test_a_missing_table_is_a_usage_error(dynamodb_client: Any) -> None:
    with pytest.raises(UsageError, match="ResourceNotFoundException"):
        DynamoDBOutbox("no-such-table", client=dynamodb_client).put("m", {"To": "a"})


def test_create_table_is_idempotent_and_gives_the_sender_a_stream(
    dynamodb_client: Any, outbox_table: str
) -> None:
    DynamoDBOutbox(outbox_table, client=dynamodb_client).create_table()
    table = dynamodb_client.describe_table(TableName=outbox_table)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


def test_memory_outbox_lists_messages_in_order() -> None:
    outbox = MemoryOutbox(created_attribute=None)
    outbox.put("b", {"To": "1"})
    outbox.put("a", {"To": "2"})
    assert list(outbox.messages) == ["b", "a"]
    assert repr(outbox) == "MemoryOutbox()"
    assert repr(DynamoDBOutbox("T", key="Id")) == "DynamoDBOutbox('T', key='Id')"
