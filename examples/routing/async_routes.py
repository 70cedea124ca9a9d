"""Async route functions: awaited one record at a time, so an item's changes stay in order."""

from __future__ import annotations

import asyncio
from typing import Any

from ddbstream import BatchResponse, Router, StreamRecord
from ddbstream.filters import event_name

router = Router()
indexed: list[str] = []


@router.route(event_name != "REMOVE")
async def index_document(record: StreamRecord[Any]) -> None:
    await asyncio.sleep(0)  # e.g. an aiohttp call to a search index
    indexed.append(f"{record.event_name} {record.keys['pk']}")


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    return router.handle(event, context)
