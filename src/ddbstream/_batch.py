"""The in-order batch engine behind :class:`~ddbstream.Router`: policies, results, responses.

A DynamoDB stream is an ordered log per item, and Lambda's event source mapping retries from the
*lowest* failed sequence number, re-running every record after it. So the engine runs records one
at a time, in batch order, and by default stops at the first failure: the records after it are
not run (their side effects would repeat on the retry anyway), and only that record is reported.
What is reported for each envelope (``FailurePolicy.STOP``):

=========  ===========================================  ==========================================
envelope   ``itemIdentifier``                            reported
=========  ===========================================  ==========================================
lambda     ``dynamodb.SequenceNumber``                   the first failed (or unprocessed) record
kinesis    ``kinesis.sequenceNumber``                    the first failed (or unprocessed) record
pipes      ``eventID``                                   the first failed record *and* every record
                                                         after it (Pipes' retry semantics for a
                                                         partial failure are not documented; this
                                                         is correct under either reading)
=========  ===========================================  ==========================================

``FailurePolicy.CONTINUE`` runs every record and reports every failure (plus the records left
unprocessed at a deadline).

Anything a record's step raises fails that record, ``BaseException`` subclasses included, except
``KeyboardInterrupt`` and ``SystemExit``: those propagate, as Python expects, and the invocation
fails as a whole (Lambda then retries the whole batch, so no record is lost either way).
"""

from __future__ import annotations

import contextvars
import enum
import logging
import threading
import time
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._errors import DecodeError, ImageValidationError, MissingImageError, UsageError
from ._event import UnparsedRecord
from ._observe import log_record_failure
from ._records import StreamRecord
from ._reprs import name_of, short_repr
from ._types import BatchResponse, Envelope, LambdaContext

__all__ = [
    "DATA_ERRORS",
    "BatchResult",
    "BatchRun",
    "DeadLetter",
    "FailurePolicy",
    "RecordFailure",
    "current_context",
    "run_batch",
    "settle",
]

_log = logging.getLogger("ddbstream.routing")

#: Errors that are the record's own fault: it can never succeed, so a dead-letter callback may
#: take it. Anything else a handler raises (throttling, a network error) may pass on a retry.
DATA_ERRORS: tuple[type[Exception], ...] = (DecodeError, ImageValidationError, MissingImageError)

#: What a record's failure never swallows: Python's own requests to stop.
_PROPAGATE = (KeyboardInterrupt, SystemExit)


class FailurePolicy(str, enum.Enum):
    """What the engine does after a record fails.

    ``STOP`` (the default) keeps the stream's order: later records are not run and Lambda
    retries from the failed one. ``CONTINUE`` runs every record and reports every failure; use it
    only when handlers are idempotent and records of one item do not depend on each other.

    Example:
        >>> from ddbstream import FailurePolicy, Router
        >>> Router(policy="continue").policy is FailurePolicy.CONTINUE
        True
    """

    STOP = "stop"
    CONTINUE = "continue"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def coerce(cls, policy: FailurePolicy | str) -> FailurePolicy:
        """Accept ``"stop"`` / ``"continue"`` as well as the enum.

        Raises:
            UsageError: any other value.
        """
        try:
            return cls(policy)
        except ValueError:
            raise UsageError(f"{policy=} must be 'stop' or 'continue'") from None


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """A record that failed (or was dead-lettered), with the exception that failed it.

    Attributes:
        index: position of the record in the batch.
        item_identifier: what the partial batch response reports for it.
        exception: what the route function, its condition, model validation or decoding
            raised.
        raw: the envelope's own record, as Lambda sent it (ship this to a dead-letter queue).
        record: the parsed record; None only when the record could not even be parsed.
        route: the name of the route whose condition or function failed, when one did.
    """

    index: int
    item_identifier: str
    exception: BaseException
    raw: Mapping[str, Any] = field(repr=False)
    record: StreamRecord[Any] | None = field(default=None, repr=False)
    route: str | None = None

    @property
    def event_id(self) -> str | None:
        """The record's ``eventID``, when it has a valid one."""
        source = self.record.lambda_record if self.record is not None else self.raw
        value = source.get("eventID") if isinstance(source, Mapping) else None
        return value if isinstance(value, str) else None

    @property
    def sequence_number(self) -> str | None:
        """The record's SequenceNumber, when it has a valid one."""
        if self.record is not None:
            return self.record.sequence_number
        return getattr(self.exception, "sequence_number", None)


#: A dead-letter callback: takes a record that can never succeed (it does not decode or does not
#: validate against its route's model). Processing continues after it returns.
DeadLetter = Callable[[RecordFailure], object]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What happened to every record of one batch.

    Every record is in exactly one of ``processed``, ``failed``, ``dead_lettered`` and
    ``not_attempted``; ``unmatched`` lists the records no route matched (they are processed, or
    failed if the default route failed).

    Attributes:
        envelope: ``"lambda"``, ``"kinesis"`` or ``"pipes"``.
        policy: the failure policy the batch ran under.
        processed: records whose routes all succeeded, in batch order.
        failed: records that failed, in batch order (one at most under ``STOP``).
        dead_lettered: records handed to the dead-letter callback.
        not_attempted: item identifiers of the records never run (after a failure under
            ``STOP``, or after the deadline).
        unmatched: records that matched no route.
        deadline_reached: the batch stopped because the Lambda deadline was near.
        duration: wall-clock seconds spent on the batch.
        route_durations: seconds spent in each route's function, by route name (for the
            single catch-all route of ``Router.for_function``: the whole record loop).
        state: the tumbling-window state to return, or None outside tumbling windows.

    Example:
        >>> from ddbstream import Router
        >>> from ddbstream.testing import insert, lambda_event
        >>> def fail_on_b(record):
        ...     if record.keys["pk"] == "b":
        ...         raise RuntimeError("down")
        >>> event = lambda_event(insert({"pk": "a"}), insert({"pk": "b"}), insert({"pk": "c"}))
        >>> result = Router.for_function(fail_on_b).process(event)
        >>> len(result.processed), len(result.failed), len(result.not_attempted)
        (1, 1, 1)
        >>> result.response()
        {'batchItemFailures': [{'itemIdentifier': '100000000000000000100'}]}
    """

    envelope: Envelope
    policy: FailurePolicy
    processed: tuple[StreamRecord[Any], ...] = ()
    failed: tuple[RecordFailure, ...] = ()
    dead_lettered: tuple[RecordFailure, ...] = ()
    not_attempted: tuple[str, ...] = ()
    unmatched: tuple[StreamRecord[Any], ...] = ()
    deadline_reached: bool = False
    duration: float = 0.0
    route_durations: Mapping[str, float] = field(default_factory=dict)
    state: dict[str, Any] | None = None

    @property
    def reported(self) -> tuple[str, ...]:
        """The item identifiers the response reports, in batch order."""
        ids = [f.item_identifier for f in self.failed]
        ids.extend(self.not_attempted)
        if self.policy is FailurePolicy.STOP and self.envelope != "pipes":
            return tuple(ids[:1])
        return tuple(dict.fromkeys(ids))

    def response(self) -> BatchResponse:
        """The partial batch response for Lambda (or Pipes): ``{"batchItemFailures": [...]}``,
        with ``state`` for tumbling-window invocations."""
        response: BatchResponse = {
            "batchItemFailures": [{"itemIdentifier": i} for i in self.reported]
        }
        if self.state is not None:
            response["state"] = self.state
        return response


# -- what a route function returns ------------------------------------------------------------

_LOOPS = threading.local()


def settle(result: object, *, route: str) -> None:
    """Finish what a route function returned before the next record starts.

    ``None`` (or any plain value) is done. Anything awaitable (a coroutine, whether it came from
    an ``async def``, a ``functools.partial`` of one, a lambda or a decorator calling one) runs
    to completion on this thread's event loop, so async routes keep the stream's order and
    stop-at-first-failure holds. A generator or async generator means the function's body never
    ran: that fails the record.

    Raises:
        UsageError: a generator, or an awaitable returned inside a running event loop.
        Exception: whatever the awaited code raised.
    """
    kind = type(result)
    if kind is types.GeneratorType or kind is types.AsyncGeneratorType:
        raise UsageError(
            f"route {route} returned a {kind.__name__}: its body never ran. A route function "
            "is a plain or async def that returns nothing, not a generator"
        )
    if not hasattr(kind, "__await__"):
        return
    import asyncio  # only once a route is async: a sync router never pays for asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        getattr(result, "close", lambda: None)()  # never awaited: no "never awaited" warning
        raise UsageError(
            f"route {route} is async, but Router.handle was called inside a running event "
            "loop; call it from synchronous code (as Lambda does)"
        )
    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOOPS.loop = asyncio.new_event_loop()
    loop.run_until_complete(result)  # type: ignore[arg-type]


# -- the engine -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchRun:
    """What the engine did with a batch; the router adds what its routes saw to make the
    :class:`BatchResult` (fields as there)."""

    processed: tuple[StreamRecord[Any], ...]
    failed: tuple[RecordFailure, ...]
    dead_lettered: tuple[RecordFailure, ...]
    not_attempted: tuple[str, ...]
    deadline_reached: bool
    duration: float


@dataclass(slots=True)
class _Tally:
    """The engine's running account of one batch."""

    failed: list[RecordFailure] = field(default_factory=list)
    dead: list[RecordFailure] = field(default_factory=list)
    skipped: set[int] = field(default_factory=set)  # indexes of the failed and dead-lettered


_CONTEXT: contextvars.ContextVar[LambdaContext | None] = contextvars.ContextVar(
    "ddbstream_lambda_context", default=None
)


def current_context() -> LambdaContext | None:
    """The Lambda context of the batch :func:`run_batch` is running on this thread (or task), so
    that code a route calls (a once-per-key guard) can see the invocation's deadline; None
    outside a batch or when the batch was run without a context."""
    return _CONTEXT.get()


def run_batch(
    entries: Sequence[StreamRecord[Any] | UnparsedRecord],
    step: Callable[[StreamRecord[Any]], object],
    *,
    envelope: Envelope,
    policy: FailurePolicy,
    dead_letter: DeadLetter | None = None,
    context: LambdaContext | None = None,
    deadline_margin_ms: int = 0,
    route_of: Callable[[], str | None] = lambda: None,
) -> BatchRun:
    """Run ``step`` on each record of ``entries`` in order, under ``policy``.

    ``step`` runs everything for one record; it may return an awaitable (see :func:`settle`).
    A record fails when ``step`` raises, and an :class:`UnparsedRecord` fails with its own
    error. ``route_of`` names the route that was running when a record failed.

    Raises:
        KeyboardInterrupt, SystemExit: from a step, unchanged.
        Exception: what ``context.get_remaining_time_in_millis()`` raised.
    """
    token = _CONTEXT.set(context)
    try:
        return _run(entries, step, envelope, policy, dead_letter, context, deadline_margin_ms,
                    route_of)  # fmt: skip
    finally:
        _CONTEXT.reset(token)


def _run(
    entries: Sequence[StreamRecord[Any] | UnparsedRecord],
    step: Callable[[StreamRecord[Any]], object],
    envelope: Envelope,
    policy: FailurePolicy,
    dead_letter: DeadLetter | None,
    context: LambdaContext | None,
    deadline_margin_ms: int,
    route_of: Callable[[], str | None],
) -> BatchRun:
    started = time.perf_counter()
    stop = policy is FailurePolicy.STOP
    tally = _Tally()
    end = len(entries)  # the entries before this index were attempted
    not_attempted: tuple[str, ...] = ()
    deadline_reached = False
    unparsed = UnparsedRecord  # a local: the check runs for every record
    for index, entry in enumerate(entries):
        if context is not None and context.get_remaining_time_in_millis() < deadline_margin_ms:
            deadline_reached, end = True, index
            not_attempted = tuple(e.item_identifier for e in entries[index:])
            break
        try:
            if type(entry) is unparsed:
                raise entry.error
            result = step(entry)  # type: ignore[arg-type]
            if result is not None:
                settle(result, route=route_of() or name_of(step))
        except _PROPAGATE:
            raise
        except BaseException as exc:
            route = None if type(entry) is unparsed else route_of()
            tally.skipped.add(index)
            if not _dead_lettered(tally, _failure(index, entry, exc, route), dead_letter) and stop:
                end = index + 1
                not_attempted = tuple(e.item_identifier for e in entries[end:])
                break
    processed = entries[:end]  # the attempted records, less those that failed
    if tally.skipped:
        processed = [e for i, e in enumerate(processed) if i not in tally.skipped]
    return BatchRun(
        processed=tuple(processed),  # type: ignore[arg-type]
        failed=tuple(tally.failed),
        dead_lettered=tuple(tally.dead),
        not_attempted=not_attempted,
        deadline_reached=deadline_reached,
        duration=time.perf_counter() - started,
    )


def _failure(
    index: int, entry: StreamRecord[Any] | UnparsedRecord, exc: BaseException, route: str | None
) -> RecordFailure:
    if type(entry) is UnparsedRecord:
        return RecordFailure(index, entry.item_identifier, exc, entry.raw, None, route)
    record: StreamRecord[Any] = entry  # type: ignore[assignment]
    return RecordFailure(index, record.item_identifier, exc, record.raw, record, route)


def _dead_lettered(tally: _Tally, failure: RecordFailure, dead_letter: DeadLetter | None) -> bool:
    """Hand a failed record to the dead-letter callback if it may take it, else count it failed;
    log it once either way. True when the dead-letter callback took it."""
    if dead_letter is not None and isinstance(failure.exception, DATA_ERRORS):
        try:
            dead_letter(failure)
        except _PROPAGATE:
            raise
        except BaseException as exc:
            failure = replace(failure, exception=exc)
        else:
            tally.dead.append(failure)
            _log_failure(failure, "sent to the dead-letter callback: ")
            return True
    tally.failed.append(failure)
    _log_failure(failure, "")
    return False


def _log_failure(failure: RecordFailure, what: str) -> None:
    exc = failure.exception
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ fails still fails its record
        text = short_repr(exc)
    log_record_failure(
        _log,
        event_id=failure.event_id,
        sequence_number=failure.sequence_number,
        item_identifier=failure.item_identifier,
        reason=f"{what}{type(exc).__name__}: {text[:1000]}",
        exc=exc,
        route=failure.route,
        record_index=failure.index,
    )
