"""What a router runs for one record: the routes whose condition matches it, in registration
order, then the tumbling-window fold. One :class:`Dispatch` serves one batch and keeps its
account: which records no route matched, and what each route took.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from ._batch import settle
from ._records import StreamRecord, bind_now
from ._types import RecordPredicate
from ._window import TumblingWindow

__all__ = ["Dispatch", "Target"]

_NONE: dict[str, StreamRecord[Any]] = {}  # the bound records of a batch without typed routes


@dataclass(slots=True)
class Target:
    """A route as one batch runs it, with what it took so far.

    Attributes:
        name: the route's name.
        matches: its condition as a function; None matches every record.
        handler: the route function.
        model: the model its records are bound to, or None.
        calls: how many records the function ran for (failures included).
        seconds: time spent in the function.
    """

    name: str
    matches: RecordPredicate | None
    handler: Callable[[StreamRecord[Any]], object]
    model: type[Any] | None
    calls: int = 0
    seconds: float = 0.0


class Dispatch:
    """Runs the matching routes of each record; :meth:`step` is the batch engine's step.

    A record goes to every route whose condition matches it, in registration order; when none
    does, to the ``fallback`` (the default route) if there is one, and it is counted unmatched.
    With typed routes every route's binding is validated before any route runs, so a record
    that does not fit a model fails before it has side effects.
    """

    __slots__ = ("_failed_in", "_fallback", "_targets", "_typed", "state", "unmatched", "window")

    def __init__(
        self,
        targets: Sequence[Target],
        fallback: Target | None,
        *,
        window: TumblingWindow | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self._targets = tuple(targets)
        self._fallback = [fallback] if fallback is not None else []
        self._typed = any(t.model is not None for t in (*self._targets, *self._fallback))
        self._failed_in: Target | None = None
        self.window = window
        self.state = state
        self.unmatched: list[StreamRecord[Any]] = []

    @property
    def targets(self) -> tuple[Target, ...]:
        """Every route of the batch, the default route last."""
        return (*self._targets, *self._fallback)

    def running(self) -> str | None:
        """The route whose condition, binding or function failed the last record, if any."""
        target = self._failed_in
        return None if target is None else target.name

    def step(self, record: StreamRecord[Any]) -> None:
        """Run every route of ``record``, then fold it into the window's state.

        Raises:
            BaseException: what a condition, a binding, a route function or the fold raised;
                the batch engine fails the record with it (and asks :meth:`running` which
                route it was).
        """
        target: Target | None = None
        try:
            hits = []
            for target in self._targets:
                matches = target.matches
                if matches is None or matches(record):
                    hits.append(target)
            if not hits:
                self.unmatched.append(record)
                hits = self._fallback
            if hits:
                bound = _NONE
                if self._typed:  # every binding is validated before any function runs
                    bound = {}
                    for target in hits:
                        bound[target.name] = bind_now(record, target.model)
                started = perf_counter()
                for target in hits:
                    target.calls += 1
                    result = target.handler(record if target.model is None else bound[target.name])
                    if result is not None:
                        settle(result, route=target.name)
                    now = perf_counter()
                    target.seconds += now - started
                    started = now
            target = None
            if self.window is not None and self.state is not None:
                self.state = self.window.fold(self.state, record)
        except BaseException:
            self._failed_in = target
            raise
