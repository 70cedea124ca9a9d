"""Where a handler runs: a daemon thread per concurrent invocation, given up at the timeout.

Lambda stops a function at its timeout and counts the invocation as a function error, whatever
the code was doing; an exception of any kind (``SystemExit`` and other ``BaseException``
subclasses included) is a function error too, never a crash of the poller. Python cannot kill
a thread, so a handler that runs past its timeout is left running on its daemon thread (it can
still write somewhere after the retry started: Lambda would have frozen it) and the next
invocation gets a fresh thread.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from ._response import marshal

__all__ = ["Handler", "Result", "Sandbox"]

log = logging.getLogger("ddbstream.runner")

Handler = Callable[[Any, Any], Any]
"""Any Lambda handler: ``handler(event, context)``."""

Result = tuple[str | None, BaseException | None]
"""``(response JSON, None)`` after a normal return, ``(None, error)`` after a function error."""


class _Call:
    __slots__ = ("context", "done", "event", "handler", "result")

    def __init__(self, handler: Handler, event: dict[str, Any] | str, context: object) -> None:
        self.handler = handler
        self.event = event
        self.context = context
        self.done = threading.Event()
        self.result: Result = (None, RuntimeError("the handler did not run"))

    def run(self) -> None:
        try:
            event = json.loads(self.event) if isinstance(self.event, str) else self.event
            self.result = (marshal(self.handler(event, self.context)), None)
        except BaseException as exc:  # any escape from a handler is a function error
            self.result = (None, exc)
        finally:
            self.done.set()


def _serve(jobs: queue.SimpleQueue[_Call | None]) -> None:
    while True:
        call = jobs.get()
        if call is None:
            return
        call.run()


class _Worker:
    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self.thread = threading.Thread(
            target=_serve, args=(self.jobs,), name="ddbstream-handler", daemon=True
        )
        self.thread.start()


class Sandbox:
    """Runs handler calls on daemon threads, each bounded by the function timeout.

    Example:
        >>> sandbox = Sandbox()
        >>> sandbox.call(lambda event, context: len(event["Records"]), '{"Records":[]}', None, 1.0)
        ('0', None)
        >>> sandbox.close()
    """

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def call(
        self, handler: Handler, event: dict[str, Any] | str, context: object, timeout: float
    ) -> Result:
        """Invoke ``handler`` on the event (JSON text is parsed on the handler's thread: a fresh
        copy); wait at most ``timeout`` seconds."""
        with self._lock:
            worker = self._idle.pop() if self._idle else _Worker()
        job = _Call(handler, event, context)
        worker.jobs.put(job)
        if job.done.wait(timeout):
            with self._lock:
                self._idle.append(worker)
            return job.result
        worker.jobs.put(None)  # it exits once the handler returns, if it ever does
        log.warning(
            "the handler runs past its %g s timeout; it keeps running in the background, "
            "where Lambda would have stopped it",
            timeout,
        )
        return None, TimeoutError(f"Task timed out after {timeout:g} seconds")

    def close(self) -> None:
        """Let the idle threads end (a handler still running keeps its thread)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.jobs.put(None)
