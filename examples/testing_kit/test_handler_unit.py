"""Unit tests of a stream handler with the event builder: no AWS, no DynamoDB Local."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ddbstream import StreamEvent
from ddbstream.testing import (
    EventBuilder,
    FakeLambdaContext,
    insert,
    kinesis_event,
    lambda_event,
    modify,
    pipes_event,
    remove,
)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Code under test: the net change of stock per product, stopping near the deadline."""
    delta: dict[str, Decimal] = {}
    failures = []
    for record in StreamEvent.parse(event):
        if context.get_remaining_time_in_millis() < 1000:
            failures.append({"itemIdentifier": record.item_identifier})
            continue
        new = record.new_image["qty"] if record.new_image else 0
        old = record.old_image["qty"] if record.old_image else 0
        product = record.keys["sku"]
        delta[product] = delta.get(product, Decimal(0)) + new - old
    return {"delta": delta, "batchItemFailures": failures}


def test_net_change_per_product() -> None:
    event = lambda_event(
        insert({"sku": "apple", "qty": 5}),
        modify({"sku": "apple", "qty": 5}, {"sku": "apple", "qty": 3}),
        remove({"sku": "pear", "qty": 2}, ttl=True),
    )
    result = handler(event, FakeLambdaContext())
    assert result == {"delta": {"apple": 3, "pear": -2}, "batchItemFailures": []}


def test_the_same_records_in_every_envelope() -> None:
    records = [insert({"sku": "apple", "qty": 5}), remove({"sku": "apple", "qty": 5})]
    for event in (lambda_event(*records), pipes_event(*records), kinesis_event(*records)):
        assert handler(event, FakeLambdaContext())["delta"] == {"apple": 0}


def test_records_left_at_the_deadline_are_reported() -> None:
    shop = EventBuilder("Stock", keys=("sku",))
    first, second = shop.insert({"sku": "a", "qty": 1}), shop.insert({"sku": "b", "qty": 1})
    context = FakeLambdaContext(remaining_ms=900)  # already inside the last second
    result = handler(shop.lambda_event(first, second), context)
    assert result["batchItemFailures"] == [
        {"itemIdentifier": first["dynamodb"]["SequenceNumber"]},
        {"itemIdentifier": second["dynamodb"]["SequenceNumber"]},
    ]
