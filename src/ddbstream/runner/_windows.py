"""Tumbling windows: per-shard state carried from one invocation to the next, and the final
invoke that closes a window.

Window boundaries come from each record's ``ApproximateCreationDateTime`` (a window of ``W``
seconds starts at a multiple of ``W`` since the epoch), never from the wall clock; the wall
clock only decides when an open window with no newer records is over. A batch never spans two
windows. State above 1 MB ends the window early (``isWindowTerminatedEarly``) and the next
invocation continues the same window with fresh state, as Lambda does.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._checkpoint import CheckpointStore

if TYPE_CHECKING:
    from ._invoke import Invoker

__all__ = ["MAX_STATE_BYTES", "WindowKeeper"]

log = logging.getLogger("ddbstream.runner")

#: Lambda's limit on tumbling-window state per shard.
MAX_STATE_BYTES = 1024 * 1024


def _iso(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self._open: dict[str, tuple[float, dict[str, Any]]] = {}
        self._early: set[str] = set()
        self._lock = threading.Lock()

    def current(self, shard_id: str) -> tuple[float, dict[str, Any]] | None:
        """The open window of a shard: (start, state), or None."""
        with self._lock:
            if shard_id not in self._open:
                saved = self.store.window(self.stream_arn, shard_id)
                if saved is None:
                    return None
                self._open[shard_id] = saved
            return self._open[shard_id]

    def _set(self, shard_id: str, start: float | None, state: dict[str, Any]) -> None:
        with self._lock:
            if start is None:
                self._open.pop(shard_id, None)
            else:
                self._open[shard_id] = (start, state)
        self.store.save_window(self.stream_arn, shard_id, start, state)

    def fields(self, shard_id: str, *, final: bool = False, early: bool = False) -> dict[str, Any]:
        """The tumbling-window fields Lambda adds to the event."""
        current = self.current(shard_id)
        start, state = current if current is not None else (0.0, {})
        return {
            "window": {"start": _iso(start), "end": _iso(start + self.seconds)},
            "state": dict(state),
            "shardId": shard_id,
            "eventSourceARN": self.stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": early,
        }

    def update(self, shard_id: str, state: dict[str, Any]) -> None:
        """Keep the state a successful invocation returned."""
        current = self.current(shard_id)
        if current is None:
            return
        if len(json.dumps(state)) > MAX_STATE_BYTES:
            self._early.add(shard_id)
        self._set(shard_id, current[0], state)

    def start_of(self, record: dict[str, Any]) -> float:
        """The start of the window a record belongs to."""
        when = record["dynamodb"].get("ApproximateCreationDateTime")
        moment = float(when) if isinstance(when, (int, float)) else self.clock()
        return math.floor(moment / self.seconds) * self.seconds

    def deliver(self, invoker: Invoker, shard_id: str, records: Sequence[dict[str, Any]]) -> bool:
        """Invoke on the records window by window (False: a stop request interrupted)."""
        from ._invoke import cut_batches

        groups: list[tuple[float, list[dict[str, Any]]]] = []
        for record in records:
            start = self.start_of(record)
            if groups and start <= groups[-1][0]:
                groups[-1][1].append(record)
            else:
                groups.append((start, [record]))
        for start, group in groups:
            current = self.current(shard_id)
            if current is not None and start > current[0]:
                if not self.close(invoker, shard_id):
                    return False
                current = None
            if current is None:
                self._set(shard_id, start, {})
            for batch, texts in cut_batches(group, invoker.mapping.batch_size):
                ok = invoker.deliver(shard_id, batch, lambda: self.fields(shard_id), texts=texts)
                if not ok:
                    return False
                if shard_id in self._early and not self.close(invoker, shard_id, early=True):
                    return False
        return True

    def close_expired(self, invoker: Invoker, shard_id: str, *, force: bool = False) -> bool:
        """Close the shard's window when its end has passed (or ``force``: the shard ended)."""
        current = self.current(shard_id)
        if current is None or (not force and current[0] + self.seconds > self.clock()):
            return True
        return self.close(invoker, shard_id)

    def close(self, invoker: Invoker, shard_id: str, *, early: bool = False) -> bool:
        """The final invoke of the open window; retried as the mapping says (False: stopped).

        ``early``: the state outgrew 1 MB; the same window goes on with a fresh state.
        """
        current = self.current(shard_id)
        if current is None:
            return True
        retries = 0
        limit = invoker.mapping.maximum_retry_attempts
        while True:
            fields = self.fields(shard_id, final=True, early=early)
            outcome, _ = invoker.invoke(shard_id, [], fields)
            if outcome.kind == "ok":
                break
            retries += 1
            if limit != -1 and retries > limit:
                log.error(
                    "shard %s: final invoke for window %s failed %d times; its state is dropped",
                    shard_id,
                    fields["window"],
                    retries,
                )
                break
            if invoker.stopping.wait(min(1.0, invoker.retry_delay * 2 ** min(retries - 1, 10))):
                return False
        self._early.discard(shard_id)
        self._set(shard_id, current[0] if early else None, {})
        return True
