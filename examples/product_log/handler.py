"""The stream-triggered function of the product tutorial: one log line per product change.

Delivery is at least once, so a line can repeat after a retry; each line carries the record's
eventID, which tells a repeat from a new change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ddbstream import EventName, StreamEvent

log = logging.getLogger("product_log")


def describe(event: dict[str, Any]) -> list[str]:
    """The log lines for an event, in stream order."""
    lines = []
    for record in StreamEvent.from_lambda(event):
        product = record.keys["ProductId"]
        if record.event_name is EventName.INSERT:
            new: Mapping[str, Any] = record.new_image or {}
            change = f"added {new['Name']!r} at {new['Price']}"
        elif record.event_name is EventName.REMOVE:
            change = "removed"
        else:
            old: Mapping[str, Any] = record.old_image or {}
            new = record.new_image or {}
            names = sorted(record.changed_attributes())
            change = ", ".join(f"{n} {old.get(n)} -> {new.get(n)}" for n in names)
        lines.append(f"product {product}: {change} (eventID {record.event_id})")
    return lines


def handler(event: dict[str, Any], context: Any) -> None:
    for line in describe(event):
        log.info("%s", line)
