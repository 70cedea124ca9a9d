"""A Lambda handler that reads typed invoice transactions from a DynamoDB stream."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ddbstream import StreamEvent


class Transaction(BaseModel):
    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal
    InvoiceDate: str


def handler(event: dict[str, Any], context: object) -> list[str]:
    lines: list[str] = []
    for record in StreamEvent.from_lambda(event, model=Transaction):
        if record.new is not None:  # INSERT and MODIFY carry a new image
            lines.append(f"{record.event_name} {record.new.InvoiceNumber} {record.new.Amount}")
        else:  # REMOVE: only the old image (and the keys) are left
            lines.append(f"{record.event_name} {record.keys['TransactionId']}")
    return lines
