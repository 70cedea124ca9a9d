"""Records that can never succeed go to a dead-letter callback; the batch goes on."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ddbstream import BatchResponse, RecordFailure, Router, StreamRecord


class Order(BaseModel):
    pk: str
    status: str
    total: Decimal


parked: list[str] = []  # in production: sqs.send_message(QueueUrl=..., MessageBody=...)
totals: list[Decimal] = []


def park(failure: RecordFailure) -> None:
    """Called for a record that does not decode or does not validate as ``Order``."""
    parked.append(json.dumps({"error": str(failure.exception), "record": failure.raw}))


def add_total(record: StreamRecord[Order]) -> None:
    totals.append(record.require_new().total)


router = Router.for_function(add_total, model=Order, dead_letter=park)


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    # o2's total is the string "lots": it is parked, o1 and o3 are processed, nothing is retried
    return router.handle(event, context)
