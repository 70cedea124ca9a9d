"""Tumbling-window state: per shard, the open window and the state its invocations carry.

Window boundaries come from each record's ``ApproximateCreationDateTime`` (a window of ``W``
seconds starts at a multiple of ``W`` since the epoch), never from the wall clock; the wall
clock only decides when an open window with no newer records is over. State above 1 MB marks
the window for early termination (``isWindowTerminatedEarly``): the next invocation continues
the same window with fresh state, as Lambda does. This module keeps the state only; the
:class:`~ddbstream.runner._invoke.Invoker` decides when to invoke.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from .._window import MAX_STATE_BYTES, state_size
from ._checkpoint import CheckpointStore

__all__ = ["OpenWindow", "WindowKeeper"]


def _iso(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass(frozen=True, slots=True)
class OpenWindow:
    """The open window of a shard: its start (epoch seconds) and current state."""

    start: float
    state: dict[str, Any]


class WindowKeeper:
    """Open windows and their state, one per shard, persisted in the checkpoint store."""

    def __init__(
        self,
        seconds: int,
        *,
        store: CheckpointStore,
        stream_arn: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.seconds = seconds
        self.store = store
        self.stream_arn = stream_arn
        self.clock = clock
        self._open: dict[str, OpenWindow] = {}
        self._early: set[str] = set()
        self._lock = threading.Lock()

    def current(self, shard_id: str) -> OpenWindow | None:
        """The open window of a shard, or None."""
        with self._lock:
            if shard_id not in self._open:
                saved = self.store.window(self.stream_arn, shard_id)
                if saved is None:
                    return None
                self._open[shard_id] = OpenWindow(*saved)
            return self._open[shard_id]

    def _set(self, shard_id: str, window: OpenWindow | None) -> None:
        with self._lock:
            if window is None:
                self._open.pop(shard_id, None)
            else:
                self._open[shard_id] = window
        start, state = (None, None) if window is None else (window.start, window.state)
        self.store.save_window(self.stream_arn, shard_id, start, state)

    def start_of(self, created: float | None) -> float:
        """The start of the window a record created at ``created`` belongs to."""
        moment = created if created is not None else self.clock()
        return math.floor(moment / self.seconds) * self.seconds

    def open(self, shard_id: str, start: float) -> None:
        """Open the shard's window starting at ``start`` with an empty state."""
        self._set(shard_id, OpenWindow(start, {}))

    def fields(self, shard_id: str, *, final: bool = False, early: bool = False) -> dict[str, Any]:
        """The tumbling-window fields Lambda adds to the event."""
        window = self.current(shard_id) or OpenWindow(0.0, {})
        return {
            "window": {"start": _iso(window.start), "end": _iso(window.start + self.seconds)},
            "state": dict(window.state),
            "shardId": shard_id,
            "eventSourceARN": self.stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": early,
        }

    def update(self, shard_id: str, state: dict[str, Any]) -> None:
        """Keep the state an invocation returned; above 1 MB the window must end early."""
        window = self.current(shard_id)
        if window is None:
            return
        if state_size(state) > MAX_STATE_BYTES:
            self._early.add(shard_id)
        self._set(shard_id, OpenWindow(window.start, state))

    def terminated_early(self, shard_id: str) -> bool:
        """True when the shard's state outgrew 1 MB and its window must close now."""
        return shard_id in self._early

    def expired(self, shard_id: str, *, force: bool = False) -> bool:
        """True when the shard has an open window whose end has passed (or ``force``)."""
        window = self.current(shard_id)
        return window is not None and (force or window.start + self.seconds <= self.clock())

    def close(self, shard_id: str, *, early: bool = False) -> None:
        """After the final invoke: drop the window, or with ``early`` go on with fresh state."""
        window = self.current(shard_id)
        self._early.discard(shard_id)
        self._set(shard_id, OpenWindow(window.start, {}) if early and window else None)
