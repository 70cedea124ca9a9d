"""Typed attributes: the model's field types pick the DynamoDB descriptor."""

from decimal import Decimal

from pydantic import BaseModel

from ddbstream import FilterNotExpressible
from ddbstream.filters import typed


class Invoice(BaseModel):
    pk: str
    Amount: Decimal
    Status: str
    Paid: bool


attrs = typed(Invoice)
LARGE_UNPAID = (attrs.new.Amount == Decimal("1250.00")) & (attrs.new.Paid == False)  # noqa: E712


def handler(event, context):
    try:
        _ = attrs.new.Amount > 1000  # Lambda compares N values as strings
    except FilterNotExpressible as exc:
        refused = str(exc).split(":")[1].strip()
    return {
        "patterns": LARGE_UNPAID.to_patterns(),
        "refused": refused,
        "matches": [LARGE_UNPAID.matches(r) for r in event["Records"]],
    }
