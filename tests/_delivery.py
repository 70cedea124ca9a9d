"""Test helper: play a ``ddbstream.testing.strategies.deliveries`` schedule against a handler
whose writes can be made to crash, as the aggregate and projection property tests do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Crash", "play"]


class Crash(Exception):
    """The handler died (timeout, out of memory, between two writes): Lambda redelivers the
    whole batch."""


def play(
    schedule: Any, handle: Callable[[dict[str, Any]], Any], arm: Callable[[int | None], None]
) -> None:
    """Run every delivery: ``fail_at`` processes only the records before it (the rest count as
    failed); ``crash_after_writes`` arms the sink to crash after that many landed writes."""
    for delivery in schedule:
        batch = list(delivery.batch)
        if delivery.fail_at is not None:
            batch = batch[: delivery.fail_at]
        arm(delivery.crash_after_writes)
        try:
            handle({"Records": batch})
        except Crash:
            pass
        finally:
            arm(None)
