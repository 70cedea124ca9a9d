"""No routes: one record function, with the stream-correct batch semantics."""

from __future__ import annotations

from typing import Any

from ddbstream import BatchResponse, Router, StreamRecord

seen: list[str] = []


def process(record: StreamRecord[Any]) -> None:
    seen.append(f"{record.event_name} {record.keys['pk']}")


# Stop a second before Lambda's timeout and report what is left, instead of timing out
router = Router.for_function(process, deadline_margin_ms=1000)


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    return router.handle(event, context)
