"""Router: send each stream record, in order, to the functions whose condition it matches.

Mount one inside your own Lambda handler::

    router = Router()

    @router.route(new_image("status") == "SHIPPED", model=Order)
    def ship(record: StreamRecord[Order]) -> None: ...

    def handler(event, context):
        return router.handle(event, context)

The path of an event is one pass down: the event is parsed once (:mod:`._event`), the batch
engine (:mod:`._batch`) runs each record in order and keeps the failure policy, a
:class:`~._dispatch.Dispatch` runs the routes of each record and folds the tumbling window
(:mod:`._window`), and the router reports the batch (logs and metrics, :mod:`._observe`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, overload

from ._batch import BatchResult, DeadLetter, FailurePolicy, run_batch
from ._dispatch import Dispatch, Target
from ._errors import DataError, UsageError
from ._event import StreamEvent
from ._observe import BatchSummary, MetricsSink, RouteCounts, log_batch, record_age_ms
from ._observe import resolve_metrics as _resolve_metrics
from ._records import StreamRecord
from ._reprs import name_of
from ._types import BatchResponse, Condition, LambdaContext, RecordPredicate, predicate_of
from ._window import TumblingWindow, check_state

__all__ = ["Route", "Router"]

M = TypeVar("M")
R = TypeVar("R")
H = TypeVar("H", bound=Callable[..., Any])

_log = logging.getLogger("ddbstream.routing")

#: Default time kept in reserve before Lambda's deadline, in milliseconds.
DEFAULT_DEADLINE_MARGIN_MS = 1000

RouteCondition = Condition | RecordPredicate | None
"""What a route matches on: a condition, a ``(record) -> bool`` function, or None (all)."""


class RouteDecorator(Protocol[M]):
    """What ``router.route(condition, model=M)`` returns: a decorator that registers a function
    of ``StreamRecord[M]`` (and only such a function) and returns it unchanged."""

    def __call__(
        self, handler: Callable[[StreamRecord[M]], R], /
    ) -> Callable[[StreamRecord[M]], R]: ...


@dataclass(frozen=True, slots=True)
class Route:
    """One registered route: records matching ``condition`` go to ``handler``.

    Attributes:
        condition: a filter expression, local predicate or ``(record) -> bool`` callable; None
            matches every record (and marks the default route on :attr:`Router.default_route`).
        handler: ``(record) -> None``, called positionally with the (bound) record.
        model: the model the record is bound to before the call, or None.
        name: the route's name in logs, metrics and :attr:`BatchResult.route_durations`.
    """

    condition: RouteCondition
    handler: Callable[[StreamRecord[Any]], object]
    model: type[Any] | None = None
    name: str = field(default="", compare=False)

    def __repr__(self) -> str:
        parts = [repr(self.condition), name_of(self.handler)]
        if self.model is not None:
            parts.append(f"model={name_of(self.model)}")
        return f"Route({', '.join(parts)})"

    def _target(self) -> Target:
        return Target(self.name, predicate_of(self.condition), self.handler, self.model)


def _same(a: object, b: object) -> bool:
    if a is b:
        return True
    try:
        equal = a == b
    except Exception:
        return False
    return isinstance(equal, bool) and equal


class Router:
    """Routes each record of a DynamoDB stream batch, in order, to typed functions.

    Several routes may match one record; they run in registration order. A record no route
    matches goes to the default route if there is one, and is counted as unmatched. Route
    functions take one positional argument, the record (bound to the route's model), and return
    nothing; an exception fails the record. A route function may be async (it returns a
    coroutine): the router awaits it to completion before the next record starts, so async
    routes never reorder an item's records (call :meth:`handle` from synchronous code, as
    Lambda does).

    A condition, model binding or route function that raises fails its record, whatever it
    raises, except ``KeyboardInterrupt`` and ``SystemExit``, which propagate (the invocation
    then fails as a whole and Lambda retries every record: none is lost).

    Each failed record is logged once at WARNING on ``ddbstream.routing`` with its eventID,
    SequenceNumber, route and reason; each batch logs one INFO summary.

    Args:
        policy: ``"stop"`` (default: stop at the first failure, keep the stream's order) or
            ``"continue"`` (run every record, report every failure).
        dead_letter: called with a :class:`RecordFailure` for a record that does not decode,
            lacks an image its route requires, or does not validate against its route's model;
            processing then continues. Without it such a record fails like any other.
        deadline_margin_ms: stop when the Lambda context has less time left than this, and
            report the records not run, so a timeout does not fail the whole batch.
        window: fold records into a tumbling window's state (:class:`TumblingWindow`); needs
            ``policy="stop"``.
        metrics: publish each batch's numbers (records in, processed, failed, not attempted,
            filtered, dead-lettered, duration, record age; per route: records, failures,
            duration): ``True`` or ``"emf"`` for CloudWatch EMF lines on stdout, a Powertools
            ``Metrics`` object, or any :class:`MetricsSink`. By default, EMF when the
            ``DDBSTREAM_METRICS`` environment variable is ``emf``.

    Raises:
        UsageError: an unknown policy, a negative margin, a window with ``"continue"``, or
            ``metrics`` of an unknown kind.

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
        "_metrics",
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
        metrics: bool | str | MetricsSink | Any | None = None,
    ) -> None:
        self._policy = FailurePolicy.coerce(policy)
        if isinstance(deadline_margin_ms, bool) or not isinstance(deadline_margin_ms, int):
            raise UsageError(f"{deadline_margin_ms=} must be an int number of milliseconds")
        if deadline_margin_ms < 0:
            raise UsageError(f"{deadline_margin_ms=} must be >= 0")
        if window is not None and not isinstance(window, TumblingWindow):
            raise UsageError(f"window must be a TumblingWindow, got {type(window).__name__}")
        if window is not None and self._policy is FailurePolicy.CONTINUE:
            raise UsageError(
                "a tumbling window needs policy='stop': Lambda retries every record after the "
                "first failure, so under 'continue' they would be folded into the state twice"
            )
        if dead_letter is not None and not callable(dead_letter):
            raise UsageError(f"dead_letter must be callable, got {dead_letter!r}")
        _resolve_metrics(metrics)  # an unknown kind fails now, not at the first batch
        self._metrics = metrics
        self._dead_letter = dead_letter
        self._margin = deadline_margin_ms
        self._window = window
        self._routes: list[Route] = []
        self._default: Route | None = None

    @overload
    @classmethod
    def for_function(
        cls,
        handler: Callable[[StreamRecord[M]], object],
        *,
        model: type[M],
        policy: FailurePolicy | str = ...,
        dead_letter: DeadLetter | None = ...,
        deadline_margin_ms: int = ...,
        metrics: bool | str | MetricsSink | Any | None = ...,
    ) -> Router: ...
    @overload
    @classmethod
    def for_function(
        cls,
        handler: Callable[[StreamRecord], object],
        *,
        model: None = None,
        policy: FailurePolicy | str = ...,
        dead_letter: DeadLetter | None = ...,
        deadline_margin_ms: int = ...,
        metrics: bool | str | MetricsSink | Any | None = ...,
    ) -> Router: ...
    @classmethod
    def for_function(
        cls,
        handler: Callable[[StreamRecord[Any]], object],
        *,
        model: type[Any] | None = None,
        policy: FailurePolicy | str = FailurePolicy.STOP,
        dead_letter: DeadLetter | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
        metrics: bool | str | MetricsSink | Any | None = None,
    ) -> Router:
        """A router with a single route that takes every record: a plain batch processor.

        Example:
            >>> from ddbstream import Router
            >>> router = Router.for_function(print)
            >>> router.handle({"Records": []})
            {'batchItemFailures': []}
        """
        router = cls(
            policy=policy,
            dead_letter=dead_letter,
            deadline_margin_ms=deadline_margin_ms,
            metrics=metrics,
        )
        router.add(None, handler, model=model)
        return router

    def __repr__(self) -> str:
        parts = []
        if self._policy is not FailurePolicy.STOP:
            parts.append(f"policy={self._policy.value!r}")
        if self._dead_letter is not None:
            parts.append(f"dead_letter={name_of(self._dead_letter)}")
        if self._margin != DEFAULT_DEADLINE_MARGIN_MS:
            parts.append(f"deadline_margin_ms={self._margin}")
        if self._window is not None:
            parts.append(f"window={self._window!r}")
        if self._metrics is not None:
            parts.append(f"metrics={self._metrics!r}")
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

    @overload
    def add(
        self,
        condition: RouteCondition,
        handler: Callable[[StreamRecord[M]], object],
        *,
        model: type[M],
        name: str | None = None,
    ) -> Route: ...
    @overload
    def add(
        self,
        condition: RouteCondition,
        handler: Callable[[StreamRecord], object],
        *,
        model: None = None,
        name: str | None = None,
    ) -> Route: ...
    def add(
        self,
        condition: RouteCondition,
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
        predicate_of(condition)
        if not callable(handler):
            raise UsageError(f"a route handler must be callable, got {handler!r}")
        for route in self._routes:
            if route.handler == handler and _same(route.condition, condition):
                raise UsageError(
                    f"{name_of(handler)} is already routed for {condition!r} "
                    f"(as {route.name!r}); register it once"
                )
        route = Route(condition, handler, model, self._unique(name or name_of(handler)))
        self._routes.append(route)
        return route

    @overload
    def route(
        self, condition: RouteCondition, *, model: type[M], name: str | None = None
    ) -> RouteDecorator[M]: ...
    @overload
    def route(
        self, condition: RouteCondition, *, model: None = None, name: str | None = None
    ) -> RouteDecorator[Mapping[str, Any]]: ...
    def route(
        self, condition: RouteCondition, *, model: type[Any] | None = None, name: str | None = None
    ) -> RouteDecorator[Any]:
        """Decorator form of :meth:`add`: ``@router.route(new_image("n") == 1, model=M)``.

        With ``model=Order`` it accepts only a function of ``StreamRecord[Order]`` (type
        checkers reject one typed for another model), and returns the function unchanged.
        """

        def register(
            handler: Callable[[StreamRecord[Any]], R], /
        ) -> Callable[[StreamRecord[Any]], R]:
            self.add(condition, handler, model=model, name=name)
            return handler

        return register

    def default(self, handler: H, /, *, model: type[Any] | None = None) -> H:
        """Set the route for records no other route matches; usable as ``@router.default``.

        Raises:
            UsageError: a default route is already set.
        """
        if self._default is not None:
            raise UsageError(f"the default route is already {self._default.name!r}")
        if not callable(handler):
            raise UsageError(f"a route handler must be callable, got {handler!r}")
        self._default = Route(None, handler, model, self._unique(name_of(handler)))
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
            UsageError: a tumbling-window router got an event without a window.
            Exception: what the window's ``flush`` or the context raised.
            KeyboardInterrupt, SystemExit: from a route, unchanged.
        """
        return self.process(event, context).response()

    def process(self, event: Any, context: LambdaContext | None = None) -> BatchResult:
        """Like :meth:`handle`, but return the :class:`BatchResult` (``.response()`` gives the
        partial batch response)."""
        parsed = StreamEvent.parse(event)
        window = parsed.tumbling_window
        if self._window is not None and window is None:
            raise UsageError(
                "this router folds a tumbling window, but the event has no 'window': set "
                "TumblingWindowInSeconds on the event source mapping"
            )
        dispatch = self._dispatch(None if window is None else dict(window.state))
        entries = parsed.entries()
        only = self._only()
        run = run_batch(
            entries,
            dispatch.step if only is None else only.handler,
            envelope=parsed.envelope,
            policy=self._policy,
            dead_letter=self._dead_letter,
            context=context,
            deadline_margin_ms=self._margin,
            route_of=dispatch.running if only is None else lambda: only.name,
        )
        if only is not None:  # the function ran for every attempted record, and nothing else
            dispatch.targets[0].calls = len(run.processed) + len(run.failed)
            dispatch.targets[0].seconds = run.duration
        result = BatchResult(
            envelope=parsed.envelope,
            policy=self._policy,
            processed=run.processed,
            failed=run.failed,
            dead_lettered=run.dead_lettered,
            not_attempted=run.not_attempted,
            unmatched=tuple(dispatch.unmatched),
            deadline_reached=run.deadline_reached,
            duration=run.duration,
            route_durations={t.name: t.seconds for t in dispatch.targets},
            state=dispatch.state,
        )
        if self._window is not None and window is not None and result.state is not None:
            check_state(result.state, window)
            done = not result.failed and not result.not_attempted
            if window.is_final_invoke and done and self._window.flush is not None:
                self._window.flush(result.state, window)
        self._report(result, dispatch, len(entries), context)
        return result

    def _dispatch(self, state: dict[str, Any] | None) -> Dispatch:
        default = self._default
        return Dispatch(
            [route._target() for route in self._routes],
            None if default is None else default._target(),
            window=self._window,
            state=state,
        )

    def _only(self) -> Route | None:
        """The only route, when it takes every record untyped and nothing else runs (the
        :meth:`for_function` case): the engine then calls its function directly."""
        routes = self._routes
        only = routes[0] if len(routes) == 1 else None
        if only is None or only.condition is not None or only.model is not None:
            return None
        return only if self._window is None and self._default is None else None

    def _report(
        self, result: BatchResult, dispatch: Dispatch, size: int, context: LambdaContext | None
    ) -> None:
        """Log the batch's summary and publish its metrics (nothing is computed when both are
        off)."""
        if result.deadline_reached:
            _log.warning(
                "stopped %d records before the Lambda deadline",
                len(result.not_attempted),
                extra={"not_attempted": len(result.not_attempted)},
            )
        sink = _resolve_metrics(self._metrics)
        if sink is None and not _log.isEnabledFor(logging.INFO):
            return
        failures: dict[str | None, int] = {}
        for failure in result.failed:
            failures[failure.route] = failures.get(failure.route, 0) + 1
        summary = BatchSummary(
            component="router",
            records=size,
            processed=len(result.processed),
            failed=len(result.failed),
            not_attempted=len(result.not_attempted),
            filtered=len(result.unmatched) if self._default is None else 0,
            dead_lettered=len(result.dead_lettered),
            duration=result.duration,
            record_age_ms=record_age_ms(map(_created, result.processed + _failed(result))),
            function=context.function_name if context is not None else None,
            routes={
                t.name: RouteCounts(t.calls, failures.get(t.name, 0), t.seconds)
                for t in dispatch.targets
            },
        )
        log_batch(_log, summary)
        if sink is not None:
            sink.publish(summary)


def _failed(result: BatchResult) -> tuple[StreamRecord[Any], ...]:
    return tuple(f.record for f in (*result.failed, *result.dead_lettered) if f.record is not None)


def _created(record: StreamRecord[Any]) -> float | None:
    """The record's ApproximateCreationDateTime in epoch seconds (None if it has none)."""
    try:
        created = record.approximate_creation_time
    except DataError:
        return None
    return None if created is None else created.timestamp()
