"""The default policy: stop at the first failure and report it; later records do not run."""

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


router = Router.for_function(charge)


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    # o1 is charged; o2 fails and is reported; o3 and o4 are not run: Lambda retries from o2
    return router.handle(event, context)
