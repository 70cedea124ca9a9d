"""The continue policy: run every record, report every failure."""

from __future__ import annotations

from typing import Any

from ddbstream import BatchResponse, Router, StreamRecord

charged: list[str] = []


def charge(record: StreamRecord[Any]) -> None:
    order = record.new_image
    assert order is not None
    if order["total"] < 0:
        raise ValueError(f"negative total for {order['pk']}")
    charged.append(order["pk"])


# Only for handlers that are idempotent and whose records do not depend on each other:
# Lambda retries from the *first* reported record, so o3 will be delivered (and charged) again.
router = Router.for_function(charge, policy="continue")


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    return router.handle(event, context)
