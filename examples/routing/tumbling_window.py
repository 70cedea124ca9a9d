"""Count orders and sum their totals per tumbling window; write the result when it closes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ddbstream import BatchResponse, Router, StreamRecord, TumblingWindow, Window

written: list[dict[str, Any]] = []  # in production: a put_item to a reporting table


def add_order(state: dict[str, Any], record: StreamRecord[Any]) -> dict[str, Any]:
    """Return the new state; never change ``state`` in place."""
    if record.event_name != "INSERT" or record.new_image is None:
        return state
    total = Decimal(state.get("total", "0")) + record.new_image["total"]
    return {"orders": state.get("orders", 0) + 1, "total": str(total)}


def write_totals(state: dict[str, Any], window: Window) -> None:
    written.append({"window_start": window.start.isoformat(), **state})


router = Router(window=TumblingWindow(add_order, flush=write_totals))


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    # the event carries the state of the earlier invocations of this window: 2 orders, 30
    return router.handle(event, context)
