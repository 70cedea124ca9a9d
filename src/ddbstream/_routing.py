"""Router: send each stream record, in order, to the functions whose condition it matches.

Mount one inside your own Lambda handler::

    router = Router()

    @router.route(new_image("status") == "SHIPPED", model=Order)
    def ship(record: StreamRecord[Order]) -> None: ...

    def handler(event, context):
        return router.handle(event, context)

Records run one at a time in batch order; a failure stops the batch (``FailurePolicy.STOP``) and
is reported in the partial batch response, so Lambda retries from it. See :mod:`._batch`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._batch import (
    DATA_ERRORS,
    UNMATCHED,
    BatchResponse,
    BatchResult,
    DeadLetter,
    Escalate,
    FailurePolicy,
    LambdaContext,
    Step,
    coerce_policy,
    run_batch,
)
from ._errors import UsageError
from ._event import StreamEvent
from ._records import StreamRecord
from ._window import TumblingWindow, Window, check_state

__all__ = ["Route", "Router"]

F = TypeVar("F", bound=Callable[..., Any])
Predicate = Callable[[StreamRecord[Any]], bool]

#: Default time kept in reserve before Lambda's deadline, in milliseconds.
DEFAULT_DEADLINE_MARGIN_MS = 1000


_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect at cold start
_LOOPS = threading.local()


def _is_async(handler: Any) -> bool:
    function = getattr(handler, "__func__", handler)
    code = getattr(function, "__code__", None)
    if code is None:  # a callable object: look at the __call__ its class defines or inherits
        call = next(
            (k.__dict__["__call__"] for k in type(handler).__mro__ if "__call__" in k.__dict__),
            None,
        )
        code = getattr(call, "__code__", None)
    return code is not None and bool(code.co_flags & _CO_COROUTINE)


def _sync(handler: Callable[[StreamRecord[Any]], object]) -> Callable[[StreamRecord[Any]], object]:
    """A route function as the engine calls it. An ``async def`` function runs to completion on
    this thread's event loop before the next record starts, so an item's records are never
    reordered and stop-at-first-failure holds exactly as for sync functions."""
    if not _is_async(handler):
        return handler

    def run_to_completion(record: StreamRecord[Any]) -> object:
        loop = getattr(_LOOPS, "loop", None)
        if loop is None or loop.is_closed():
            import asyncio

            loop = _LOOPS.loop = asyncio.new_event_loop()
        return loop.run_until_complete(handler(record))  # type: ignore[arg-type]

    return run_to_completion


def _predicate(condition: Any) -> Predicate | None:
    if condition is None:
        return None
    matches = getattr(condition, "matches", None)
    if callable(matches):
        return matches  # type: ignore[no-any-return]
    if callable(condition):
        return condition  # type: ignore[no-any-return]
    raise UsageError(
        f"a route condition must have a .matches(record) method or be a (record) -> bool "
        f"callable, got {type(condition).__name__} {condition!r}"
    )


def _same(a: object, b: object) -> bool:
    if a is b:
        return True
    try:
        equal = a == b
    except Exception:
        return False
    return isinstance(equal, bool) and equal


def _name_of(obj: object) -> str:
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return str(name or type(obj).__qualname__).rpartition("<locals>.")[2]


@dataclass(frozen=True, slots=True)
class Route:
    """One registered route: records matching ``condition`` go to ``handler``.

    Attributes:
        condition: a filter expression, local predicate or ``(record) -> bool`` callable; None
            matches every record (and marks the default route on :attr:`Router.default_route`).
        handler: ``(record) -> None``, called positionally with the (bound) record.
        model: the model the record is bound to before the call, or None.
        name: the route's name in logs and :attr:`BatchResult.route_durations`.
    """

    condition: Any
    handler: Callable[[StreamRecord[Any]], object]
    model: type[Any] | None = None
    name: str = field(default="", compare=False)

    def __repr__(self) -> str:
        parts = [repr(self.condition), _name_of(self.handler)]
        if self.model is not None:
            parts.append(f"model={_name_of(self.model)}")
        return f"Route({', '.join(parts)})"


class Router:
    """Routes each record of a DynamoDB stream batch, in order, to typed functions.

    Several routes may match one record; they run in registration order. A record no route
    matches goes to the default route if there is one, and is counted as unmatched. Route
    functions take one positional argument, the record (bound to the route's model), and return
    nothing; an exception fails the record. They may be ``async def``: each call then runs to
    completion on the thread's event loop before the next record starts, so async routes never
    reorder an item's records (call :meth:`handle` from synchronous code, as Lambda does).

    Args:
        policy: ``"stop"`` (default: stop at the first failure, keep the stream's order) or
            ``"continue"`` (run every record, report every failure).
        dead_letter: called with a :class:`RecordFailure` for a record that does not decode or
            does not validate against its route's model; processing then continues. Without it
            such a record fails like any other.
        deadline_margin_ms: stop when the Lambda context has less time left than this, and
            report the records not run, so a timeout does not fail the whole batch.
        window: fold records into a tumbling window's state (:class:`TumblingWindow`); needs
            ``policy="stop"``.

    Raises:
        UsageError: an unknown policy, a negative margin, or a window with ``"continue"``.

    Example:
        >>> from ddbstream import Router
        >>> from ddbstream.filters import event_name
        >>> router = Router()
        >>> @router.route(event_name == "INSERT")
        ... def on_insert(record):
        ...     print("new", dict(record.keys))
        >>> router.handle({"Records": []})
        {'batchItemFailures': []}
    """

    __slots__ = (
        "_dead_letter",
        "_default",
        "_margin",
        "_policy",
        "_routes",
        "_window",
    )

    def __init__(
        self,
        *,
        policy: FailurePolicy | str = FailurePolicy.STOP,
        dead_letter: DeadLetter | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
        window: TumblingWindow | None = None,
    ) -> None:
        self._policy = coerce_policy(policy)
        if isinstance(deadline_margin_ms, bool) or not isinstance(deadline_margin_ms, int):
            raise UsageError(f"{deadline_margin_ms=} must be an int number of milliseconds")
        if deadline_margin_ms < 0:
            raise UsageError(f"{deadline_margin_ms=} must be >= 0")
        if window is not None and self._policy is FailurePolicy.CONTINUE:
            raise UsageError(
                "a tumbling window needs policy='stop': Lambda retries every record after the "
                "first failure, so under 'continue' they would be folded into the state twice"
            )
        if window is not None and not isinstance(window, TumblingWindow):
            raise UsageError(f"window must be a TumblingWindow, got {type(window).__name__}")
        if dead_letter is not None and not callable(dead_letter):
            raise UsageError(f"dead_letter must be callable, got {dead_letter!r}")
        self._dead_letter = dead_letter
        self._margin = deadline_margin_ms
        self._window = window
        self._routes: list[Route] = []
        self._default: Route | None = None

    @classmethod
    def for_function(
        cls,
        handler: Callable[[StreamRecord[Any]], object],
        *,
        model: type[Any] | None = None,
        policy: FailurePolicy | str = FailurePolicy.STOP,
        dead_letter: DeadLetter | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
    ) -> Router:
        """A router with a single route that takes every record: a plain batch processor.

        Example:
            >>> from ddbstream import Router
            >>> router = Router.for_function(print)
            >>> router.handle({"Records": []})
            {'batchItemFailures': []}
        """
        router = cls(policy=policy, dead_letter=dead_letter, deadline_margin_ms=deadline_margin_ms)
        router.add(None, handler, model=model)
        return router

    def __repr__(self) -> str:
        parts = []
        if self._policy is not FailurePolicy.STOP:
            parts.append(f"policy={self._policy.value!r}")
        if self._dead_letter is not None:
            parts.append(f"dead_letter={_name_of(self._dead_letter)}")
        if self._margin != DEFAULT_DEADLINE_MARGIN_MS:
            parts.append(f"deadline_margin_ms={self._margin}")
        if self._window is not None:
            parts.append(f"window={self._window!r}")
        return f"Router({', '.join(parts)})"

    # -- registration -----------------------------------------------------------------------

    @property
    def routes(self) -> tuple[Route, ...]:
        """The routes, in registration (and calling) order."""
        return tuple(self._routes)

    @property
    def default_route(self) -> Route | None:
        """The route for records no other route matches."""
        return self._default

    @property
    def policy(self) -> FailurePolicy:
        """The failure policy."""
        return self._policy

    def add(
        self,
        condition: Any,
        handler: Callable[[StreamRecord[Any]], object],
        *,
        model: type[Any] | None = None,
        name: str | None = None,
    ) -> Route:
        """Register ``handler`` for the records ``condition`` matches (None: every record).

        Raises:
            UsageError: ``handler`` is already registered with an equal condition, or the
                condition is neither a filter nor a callable.
        """
        _predicate(condition)
        if not callable(handler):
            raise UsageError(f"a route handler must be callable, got {handler!r}")
        for route in self._routes:
            if route.handler == handler and _same(route.condition, condition):
                raise UsageError(
                    f"{_name_of(handler)} is already routed for {condition!r} "
                    f"(as {route.name!r}); register it once"
                )
        route = Route(condition, handler, model, self._unique(name or _name_of(handler)))
        self._routes.append(route)
        return route

    def route(
        self, condition: Any, *, model: type[Any] | None = None, name: str | None = None
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`add`: ``@router.route(new_image("n") == 1, model=M)``."""

        def register(handler: F) -> F:
            self.add(condition, handler, model=model, name=name)
            return handler

        return register

    def default(self, handler: F, /, *, model: type[Any] | None = None) -> F:
        """Set the route for records no other route matches; usable as ``@router.default``.

        Raises:
            UsageError: a default route is already set.
        """
        if self._default is not None:
            raise UsageError(f"the default route is already {self._default.name!r}")
        if not callable(handler):
            raise UsageError(f"a route handler must be callable, got {handler!r}")
        self._default = Route(None, handler, model, self._unique(_name_of(handler)))
        return handler

    def _unique(self, name: str) -> str:
        taken = {r.name for r in self._routes}
        if self._default is not None:
            taken.add(self._default.name)
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}#{n}"
        return unique

    # -- processing -------------------------------------------------------------------------

    def handle(self, event: Any, context: LambdaContext | None = None) -> BatchResponse:
        """Process a Lambda DynamoDB stream, Kinesis or Pipes event; return its partial batch
        response (with ``state`` for tumbling windows). Return it from your handler.

        Raises:
            DecodeError: the event is not one of those envelopes, or a record has no item
                identifier (Lambda must retry the whole batch).
            LimitExceeded: the tumbling-window state is over 1 MB.
            Exception: an exception that is not a record's fault, e.g. a condition that raised.
        """
        return self.process(event, context).response()

    def process(self, event: Any, context: LambdaContext | None = None) -> BatchResult:
        """Like :meth:`handle`, but return the :class:`BatchResult` (``.response()`` gives the
        partial batch response)."""
        parsed = StreamEvent.parse(event)
        window = Window.from_event(parsed)
        if self._window is not None and window is None:
            raise UsageError(
                "this router folds a tumbling window, but the event has no 'window': set "
                "TumblingWindowInSeconds on the event source mapping"
            )
        box: list[Any] = [dict(window.state) if window is not None else None]
        durations = dict.fromkeys((r.name for r in self._all_routes()), 0.0)
        result = run_batch(
            parsed,
            self._step(durations, box),
            policy=self._policy,
            dead_letter=self._dead_letter,
            context=context,
            deadline_margin_ms=self._margin,
            route_durations=durations,
            state=lambda: box[0],
            loop_route=self._single(),
        )
        if self._window is not None and window is not None:
            check_state(box[0], window)
            done = not result.failed and not result.not_attempted
            if window.is_final_invoke and done and self._window.flush is not None:
                self._window.flush(box[0], window)
        return result

    def _single(self) -> str | None:
        """The name of the only route when it takes every record untyped and nothing else runs
        (the :meth:`for_function` case); its duration is then the record loop's."""
        routes = self._routes
        only = routes[0] if len(routes) == 1 else None
        if only is None or only.condition is not None or only.model is not None:
            return None
        return only.name if self._window is None else None

    def _all_routes(self) -> list[Route]:
        return [*self._routes, *([self._default] if self._default is not None else [])]

    def _step(self, durations: dict[str, float], box: list[Any]) -> Step:
        routes = tuple(
            (_predicate(r.condition), _sync(r.handler), r.model, r.name) for r in self._routes
        )
        default = self._default
        fallback = (
            ()
            if default is None
            else ((None, _sync(default.handler), default.model, default.name),)
        )
        fold = _folder(self._window, box)
        perf = time.perf_counter

        if self._single() is not None:
            return routes[0][1]  # the function itself: no wrapper frame per record

        typed = any(m is not None for _, _, m, _ in (*routes, *fallback))

        if len(routes) == 1 and not typed:
            # One untyped route (and maybe an untyped default): no lists per record.
            predicate, handler, _, name = routes[0]
            other = fallback[0] if fallback else None

            def step_one(record: StreamRecord[Any]) -> object:
                try:
                    hit = predicate is None or predicate(record)
                except DATA_ERRORS:
                    raise
                except Exception as exc:
                    raise Escalate(exc) from None
                if hit:
                    started = perf()
                    handler(record)
                    durations[name] += perf() - started
                    result = None
                elif other is not None:
                    started = perf()
                    other[1](record)
                    durations[other[3]] += perf() - started
                    result = UNMATCHED
                else:
                    result = UNMATCHED
                if fold is not None:
                    fold(record)
                return result

            return step_one

        def step(record: StreamRecord[Any]) -> object:
            targets: list[tuple[Any, ...]] = []
            try:
                for route in routes:
                    predicate = route[0]
                    if predicate is None or predicate(record):
                        targets.append(route)
            except DATA_ERRORS:
                raise
            except Exception as exc:
                raise Escalate(exc) from None
            result = None
            if not targets:
                targets = fallback  # type: ignore[assignment]
                result = UNMATCHED
            if typed:
                # Bind (and validate) every target's record before any route runs.
                calls = [(h, _bound(record, m), n) for _, h, m, n in targets]
                started = perf()
                for handler, arg, name in calls:
                    handler(arg)
                    now = perf()
                    durations[name] += now - started
                    started = now
            else:
                started = perf()
                for _, handler, _, name in targets:
                    handler(record)
                    now = perf()
                    durations[name] += now - started
                    started = now
            if fold is not None:
                fold(record)
            return result

        return step


def _bound(record: StreamRecord[Any], model: type[Any] | None) -> StreamRecord[Any]:
    """The record bound to ``model``, its images validated now, so a record that does not fit
    fails before any of its routes runs."""
    if model is None:
        return record
    typed = record.bind(model)
    typed.new  # noqa: B018
    typed.old  # noqa: B018
    return typed


def _folder(
    window: TumblingWindow | None, box: list[Any]
) -> Callable[[StreamRecord[Any]], None] | None:
    if window is None:
        return None
    condition = _predicate(window.condition)
    folder, model = window.folder, window.model

    def fold(record: StreamRecord[Any]) -> None:
        try:
            wanted = condition is None or condition(record)
        except DATA_ERRORS:
            raise
        except Exception as exc:
            raise Escalate(exc) from None
        if not wanted:
            return
        new = folder(box[0], _bound(record, model))
        if not isinstance(new, Mapping):
            raise Escalate(
                UsageError(
                    f"the window folder {_name_of(folder)} must return the new state (a dict), "
                    f"got {type(new).__name__}"
                )
            )
        box[0] = new if isinstance(new, dict) else dict(new)

    return fold
