"""A Lambda handler for the Orders table's stream: totals per customer, partial batch failures.

Deploy it with FunctionResponseTypes ["ReportBatchItemFailures"]; run it locally with
``ddbstream run orders_handler:handler --table Orders --report-batch-item-failures``.
"""

from __future__ import annotations

from typing import Any

from ddbstream import StreamEvent

TOTALS: dict[str, int] = {}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in StreamEvent.from_lambda(event):
        try:
            if record.new_image is None:  # a REMOVE: nothing to add
                continue
            customer = record.new_image["customer"]
            TOTALS[customer] = TOTALS.get(customer, 0) + int(record.new_image["amount"])
        except (KeyError, ValueError):
            failures.append({"itemIdentifier": record.item_identifier})
    return {"batchItemFailures": failures}
