"""Route order changes to typed functions: fan-out, a default route, one Lambda handler."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ddbstream import BatchResponse, Router, StreamRecord
from ddbstream.filters import event_name, new_image


class Order(BaseModel):
    pk: str
    status: str
    total: Decimal


router = Router()
emails: list[str] = []
changes: list[str] = []


@router.route(new_image("status") == "SHIPPED", model=Order)
def email_customer(record: StreamRecord[Order]) -> None:
    order = record.require_new()  # the filter matched a NewImage
    emails.append(f"{order.pk} shipped ({order.total})")


@router.route((event_name == "INSERT") | (event_name == "MODIFY"))
def log_change(record: StreamRecord[Any]) -> None:
    changes.append(f"{record.event_name} {record.keys['pk']}")


@router.default
def ignore(record: StreamRecord[Any]) -> None:
    """REMOVE records match no route above; they end up here (and are counted)."""


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    return router.handle(event, context)
