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
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import length_hint
from typing import Any, Literal, Protocol, TypedDict

from typing_extensions import NotRequired

from ._errors import DecodeError, ImageValidationError
from ._event import StreamEvent
from ._records import StreamRecord

__all__ = [
    "BatchItemFailure",
    "BatchResponse",
    "BatchResult",
    "DeadLetter",
    "FailurePolicy",
    "LambdaContext",
    "RecordFailure",
    "run_batch",
]

_log = logging.getLogger("ddbstream.routing")

#: Errors that are the record's own fault: it can never succeed, so a dead-letter callback may
#: take it. Anything else a handler raises (throttling, a network error) may pass on a retry.
DATA_ERRORS: tuple[type[Exception], ...] = (DecodeError, ImageValidationError)

Envelope = Literal["lambda", "kinesis", "pipes"]


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


class BatchItemFailure(TypedDict):
    """One entry of ``batchItemFailures``."""

    itemIdentifier: str


class BatchResponse(TypedDict):
    """A Lambda partial batch response; ``state`` only for tumbling-window invocations."""

    batchItemFailures: list[BatchItemFailure]
    state: NotRequired[dict[str, Any]]


class LambdaContext(Protocol):
    """The part of the Lambda context object the engine uses."""

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """A record that failed (or was dead-lettered), with the exception that failed it.

    Attributes:
        index: position of the record in the batch.
        item_identifier: what the partial batch response reports for it.
        exception: what the route function, model validation or decoding raised.
        raw: the envelope's own record, as Lambda sent it (ship this to a dead-letter queue).
        record: the parsed record; None only when the record could not even be parsed.
    """

    index: int
    item_identifier: str
    exception: Exception
    raw: Mapping[str, Any] = field(repr=False)
    record: StreamRecord[Any] | None = field(default=None, repr=False)


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


#: Returned by a step for a record that no route matched.
UNMATCHED: Any = object()

#: The per-record step: runs everything for one record; returns :data:`UNMATCHED` when no
#: route matched it (anything else means it was routed), so that a single route's own function
#: can serve as the step.
Step = Callable[[StreamRecord[Any]], object]


class Escalate(BaseException):
    """Carries an exception that is not the record's fault past the per-record ``except``.

    It derives from BaseException so that the engine's ``except Exception`` cannot take it.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class _Broken:
    """Stands in for a record that does not parse but has an item identifier."""

    __slots__ = ("error", "item_identifier", "raw")

    def __init__(self, item_identifier: str, raw: Mapping[str, Any], error: DecodeError) -> None:
        self.item_identifier = item_identifier
        self.raw = raw
        self.error = error


def _raw_identifier(envelope: str, item: object) -> str | None:
    if not isinstance(item, Mapping):
        return None
    if envelope == "pipes":
        value = item.get("eventID")
        return value if isinstance(value, str) and value else None
    inner = item.get("kinesis" if envelope == "kinesis" else "dynamodb")
    key = "sequenceNumber" if envelope == "kinesis" else "SequenceNumber"
    value = inner.get(key) if isinstance(inner, Mapping) else None
    return value if isinstance(value, str) and value.isdigit() and value.isascii() else None


def _parse_one(envelope: str, item: Any) -> StreamRecord[Any]:
    if envelope == "pipes":
        return StreamEvent.from_pipes([item]).records[0]
    if envelope == "kinesis":
        return StreamEvent.from_kinesis({"Records": [item]}).records[0]
    return StreamEvent.from_lambda({"Records": [item]}).records[0]


def _records(event: StreamEvent[Any]) -> tuple[Sequence[Any], bool]:
    """The records of ``event`` in order, and whether any of them is a :class:`_Broken`. A
    record that does not parse but has an item identifier becomes a :class:`_Broken` (it fails
    alone); one without an identifier fails the batch."""
    envelope = event.envelope
    try:
        records = event.records
        if envelope != "pipes" or all(r.item_identifier for r in records):
            return records, False
    except DecodeError:
        pass
    items = event.raw if envelope == "pipes" else event.raw["Records"]
    out: list[Any] = []
    for index, item in enumerate(items):
        try:
            record = _parse_one(envelope, item)
            if not record.item_identifier:
                raise DecodeError("eventID is empty", path=("eventID",))
            out.append(record)
        except DecodeError as exc:
            ident = _raw_identifier(envelope, item)
            if ident is None:
                raise DecodeError(
                    f"record {index} has no item identifier, so no partial batch response can "
                    f"name it; the whole batch must be retried: {exc.reason}",
                    path=("Records", index, *_strip_records(exc.path)),
                    event_id=exc.event_id,
                    sequence_number=exc.sequence_number,
                ) from exc
            out.append(_Broken(ident, item, exc))
    return out, any(type(r) is _Broken for r in out)


def _guarded(step: Step) -> Step:
    def guarded(record: Any) -> object:
        if type(record) is _Broken:
            raise record.error
        return step(record)

    return guarded


def _failure(index: int, record: Any, exc: Exception) -> RecordFailure:
    parsed = None if type(record) is _Broken else record
    return RecordFailure(index, record.item_identifier, exc, record.raw, parsed)


def _strip_records(path: tuple[Any, ...]) -> tuple[Any, ...]:
    return path[2:] if path[:1] == ("Records",) else path


def _log_failure(failure: RecordFailure, what: str) -> None:
    raw = failure.raw
    event_id = raw.get("eventID") if isinstance(raw, Mapping) else None
    _log.warning(
        "record %s (eventID=%s) %s: %r",
        failure.item_identifier,
        event_id,
        what,
        failure.exception,
        exc_info=failure.exception,
        extra={
            "item_identifier": failure.item_identifier,
            "event_id": event_id,
            "sequence_number": getattr(failure.record, "sequence_number", None),
            "record_index": failure.index,
        },
    )


def run_batch(
    event: StreamEvent[Any],
    step: Step,
    *,
    policy: FailurePolicy,
    dead_letter: DeadLetter | None,
    context: LambdaContext | None,
    deadline_margin_ms: int,
    route_durations: dict[str, float],
    state: Callable[[], dict[str, Any] | None] = lambda: None,
    loop_route: str | None = None,
) -> BatchResult:
    """Run ``step`` on each record of ``event`` in order, under ``policy``.

    ``loop_route`` names a route that ``step`` does not time itself (the only route of a
    single-route router): it is charged the time of the whole record loop instead, which saves
    two clock reads per record.

    Raises:
        DecodeError: a record has no item identifier (the whole batch must be retried).
        Exception: whatever a step raised wrapped in :class:`Escalate` (not the record's fault).
    """
    perf = time.perf_counter
    started = perf()
    records, broken = _records(event)
    if broken:
        step = _guarded(step)
    stop = policy is FailurePolicy.STOP
    remaining = context.get_remaining_time_in_millis if context is not None else None
    size = len(records)
    unmatched: list[StreamRecord[Any]] = []
    failed: list[RecordFailure] = []
    dead: list[RecordFailure] = []
    skipped: set[int] = set()  # indexes of the failed and dead-lettered records
    end = size  # records before this index were attempted
    not_attempted: tuple[str, ...] = ()
    deadline_reached = False
    escalated: Exception | None = None
    # The loop body is only the step call: a failure leaves the ``for`` through the ``except``
    # clauses, which find the record's index from what the iterator has left, handle it, and
    # resume the loop with the next record. Processed records are the attempted ones that did
    # not fail, sliced out once at the end.
    it = iter(records)
    loop_started = perf()
    while True:
        try:
            if remaining is None:
                for record in it:
                    if step(record) is UNMATCHED:
                        unmatched.append(record)
            else:
                for record in it:
                    try:
                        left = remaining()
                    except Exception as exc:  # the context's fault, not the record's
                        raise Escalate(exc) from None
                    if left < deadline_margin_ms:
                        index = size - length_hint(it) - 1
                        deadline_reached = True
                        not_attempted = tuple(r.item_identifier for r in records[index:])
                        end = index
                        break
                    if step(record) is UNMATCHED:
                        unmatched.append(record)
            break
        except Escalate as esc:
            escalated = esc.error
            break
        except Exception as exc:
            index = size - length_hint(it) - 1
            record = records[index]
            skipped.add(index)
            failure = _failure(index, record, exc)
            if dead_letter is not None and isinstance(exc, DATA_ERRORS):
                try:
                    dead_letter(failure)
                except Exception as dl_exc:
                    failure = _failure(index, record, dl_exc)
                else:
                    dead.append(failure)
                    _log_failure(failure, "sent to the dead-letter callback")
                    continue
            failed.append(failure)
            _log_failure(failure, "failed")
            if stop:
                not_attempted = tuple(r.item_identifier for r in records[index + 1 :])
                end = index + 1
                break
    if escalated is not None:
        raise escalated
    if loop_route is not None:
        route_durations[loop_route] = perf() - loop_started
    attempted = records[:end]
    processed = (
        tuple(r for i, r in enumerate(attempted) if i not in skipped)
        if skipped
        else tuple(attempted)
    )
    result = BatchResult(
        envelope=event.envelope,
        policy=policy,
        processed=processed,
        failed=tuple(failed),
        dead_lettered=tuple(dead),
        not_attempted=not_attempted,
        unmatched=tuple(unmatched),
        deadline_reached=deadline_reached,
        duration=perf() - started,
        route_durations=route_durations,
        state=state(),
    )
    _log_summary(result, len(records))
    return result


def _log_summary(result: BatchResult, size: int) -> None:
    counts = {
        "records": size,
        "processed": len(result.processed),
        "failed": len(result.failed),
        "dead_lettered": len(result.dead_lettered),
        "not_attempted": len(result.not_attempted),
        "unmatched": len(result.unmatched),
    }
    if result.deadline_reached:
        _log.warning(
            "stopped %d records before the Lambda deadline", len(result.not_attempted), extra=counts
        )
    _log.info(
        "batch of %(records)d %(envelope)s records: %(processed)d processed, %(failed)d failed, "
        "%(dead_lettered)d dead-lettered, %(not_attempted)d not attempted, "
        "%(unmatched)d unmatched",
        {**counts, "envelope": result.envelope},
        extra={**counts, "envelope": result.envelope, "duration": result.duration},
    )


def coerce_policy(policy: FailurePolicy | str) -> FailurePolicy:
    """Accept ``"stop"`` / ``"continue"`` as well as the enum."""
    try:
        return FailurePolicy(policy)
    except ValueError:
        from ._errors import UsageError

        raise UsageError(f"{policy=} must be 'stop' or 'continue'") from None
