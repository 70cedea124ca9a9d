"""The stream-triggered function of the product tutorial: one log line per product change.

A :class:`~ddbstream.Router` runs the records of a batch in order, one route per kind of change,
and stops at the first failure: Lambda then retries from that record, so no change is skipped.
Delivery is at least once, so a line can repeat after a retry; each line carries the record's
eventID, which tells a repeat from a new change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ddbstream import Router, StreamRecord
from ddbstream.filters import event_name

log = logging.getLogger("product_log")
router = Router()
Product = StreamRecord[Mapping[str, Any]]


@router.route(event_name == "INSERT")
def added(record: Product) -> None:
    new = record.require_new()
    _log(record, f"added {new['Name']!r} at {new['Price']}")


@router.route(event_name == "MODIFY")
def changed(record: Product) -> None:
    old, new = record.require_old(), record.require_new()
    names = sorted(record.changed_attributes())
    _log(record, ", ".join(f"{n} {old.get(n)} -> {new.get(n)}" for n in names))


@router.route(event_name == "REMOVE")
def removed(record: Product) -> None:
    _log(record, "removed")


def line(record: StreamRecord[Any], change: str) -> str:
    """The log line of one change."""
    return f"product {record.keys['ProductId']}: {change} (eventID {record.event_id})"


def _log(record: StreamRecord[Any], change: str) -> None:
    log.info("%s", line(record, change))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(router.handle(event, context))
