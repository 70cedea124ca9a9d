"""``orders_handler`` after the fix: an order without an amount counts as 0 instead of failing."""

from __future__ import annotations

from typing import Any

from ddbstream import StreamEvent

TOTALS: dict[str, int] = {}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    for record in StreamEvent.from_lambda(event):
        if record.new_image is None:  # a REMOVE: nothing to add
            continue
        customer = record.new_image["customer"]
        TOTALS[customer] = TOTALS.get(customer, 0) + int(record.new_image.get("amount", 0))
    return {"batchItemFailures": []}
