"""One batch of records in, exact group totals in the sink, an :class:`AggregateResult` out.

1. Each record's effect is computed by the spec. A record that cannot be aggregated fails, and
   the later records of its source item in the batch wait (not attempted): applying them first
   would set the item's watermark past it, and its effect would be lost on redelivery.
2. Each (record, group) pair with a non-zero delta becomes a part in the record's lane (its
   source item, in the aggregator's namespace), and the exactly-once core (``_settle``) applies
   the parts: one write per touched group (more only when a group has more lanes than one write
   may carry), coalesced, with a watermark per lane.
3. What happened to every record becomes the result, the log lines and the metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from .._errors import AggregationError, DataError, DDBStreamError, UsageError
from .._observe import BatchSummary, MetricsSink, log_batch, log_record_failure, record_age_ms
from .._records import StreamRecord
from ._marks import lane_of
from ._result import AggregateResult
from ._settle import NO_DEADLINE, Deadline, Outcome, Part, Tally, Write, settle
from ._sink import GroupDelta, Sink
from ._spec import AggregateSpec

__all__ = [
    "SinkWriter",
    "check_envelopes",
    "coalescer",
    "event_id_of",
    "function_name",
    "parts_of",
    "report",
    "result_of",
    "run",
    "settle_in",
]

log = logging.getLogger("ddbstream.aggregate")

ItemId = tuple[str, tuple[tuple[str, str], ...]]
E = TypeVar("E")


class SinkWriter:
    """A sink as the exactly-once core's writer, for one spec."""

    def __init__(self, spec: AggregateSpec[Any], sink: Sink) -> None:
        self.spec, self.sink = spec, sink

    def commit(self, writes: Sequence[Write[GroupDelta]]) -> Sequence[Outcome]:
        return self.sink.commit(self.spec, writes)


def _parts(
    spec: AggregateSpec[Any], records: Sequence[StreamRecord[Any]], namespace: str, tally: Tally
) -> list[Part[GroupDelta]]:
    def effect_of(record: StreamRecord[Any]) -> tuple[bool, Mapping[Hashable, GroupDelta]]:
        effect = spec.effect(record)
        return effect.filtered, {group: dict(delta) for group, delta in effect.deltas.items()}

    return parts_of(records, namespace, tally, effect_of, what="exact aggregates")


def parts_of(
    records: Sequence[StreamRecord[Any]],
    namespace: str,
    tally: Tally,
    effect_of: Callable[[StreamRecord[Any]], tuple[bool, Mapping[Hashable, E]]],
    *,
    what: str,
) -> list[Part[E]]:
    """The parts of a batch for the exactly-once core, one per (record, target) that
    ``effect_of`` (``record -> (filtered, {target: effect})``) gives, in each source item's lane.

    A record that fails (``effect_of`` raises, or it comes after a later record of its item) is
    failed in ``tally``, and the later records of its item wait; a record without an item
    identifier fails with every record after it. ``what`` names the caller in the out-of-order
    error ("exact aggregates need each item's records in stream order").
    """
    parts: list[Part[E]] = []
    blocked: dict[ItemId, DDBStreamError] = {}
    last: dict[ItemId, int] = {}
    for index, record in enumerate(records):
        try:
            item: ItemId = (record.table_name or "", record.item_key)
        except DDBStreamError as exc:
            # Without its key the item is unknown: this record and every later one wait.
            tally.fail([index], exc)
            tally.skip(range(index + 1, len(records)), exc)
            break
        if item in blocked:
            tally.skip([index], blocked[item])
            continue
        sequence = int(record.sequence_number)
        if item in last and sequence <= last[item]:
            if sequence == last[item]:
                continue  # the same record twice in one batch: it counts once
            error = AggregationError(
                f"this record of the item comes after one with a later SequenceNumber "
                f"({last[item]}): {what} need each item's records in stream order, "
                "as Lambda delivers a DynamoDB stream (not a replay tool or Kinesis)",
                event_id=event_id_of(record),
                sequence_number=record.sequence_number,
            )
            tally.fail([index], error)
            blocked[item] = error
            continue
        try:
            filtered, effects = effect_of(record)
        except DDBStreamError as exc:
            tally.fail([index], exc)
            blocked[item] = exc
            continue
        last[item] = sequence
        if filtered:
            tally.filtered.add(index)
        lane = lane_of(namespace, *item)
        for target, effect in effects.items():
            parts.append(Part(target, lane, sequence, index, effect))
    return parts


def coalescer(spec: AggregateSpec[Any]) -> Callable[[Sequence[Part[GroupDelta]]], GroupDelta]:
    """The effect of a chunk of one target's parts: their deltas merged (possibly ``{}``, when
    they cancel out: the write still carries the lanes' watermarks)."""

    def coalesce(parts: Sequence[Part[GroupDelta]]) -> GroupDelta:
        target = parts[0].target
        return spec.merge({target: p.effect} for p in parts).get(target, {})

    return coalesce


def settle_in(
    spec: AggregateSpec[Any],
    sink: Sink,
    parts: Sequence[Part[GroupDelta]],
    tally: Tally,
    *,
    deadline: Deadline = NO_DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Apply ``parts`` to ``sink`` through the exactly-once core, as ``spec`` coalesces them."""
    settle(
        parts,
        writer=SinkWriter(spec, sink),
        coalesce=coalescer(spec),
        max_lanes=sink.lanes_per_write(spec),
        retry=sink.retry,
        tally=tally,
        deadline=deadline,
        sleep=sleep,
    )


def run(
    spec: AggregateSpec[Any],
    sink: Sink,
    records: Sequence[StreamRecord[Any]],
    *,
    namespace: str,
    deadline: Deadline = NO_DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
) -> AggregateResult:
    """Aggregate ``records`` (one delivery, in delivery order) into ``sink``.

    Raises:
        UsageError: Kinesis records into an exactly-once sink (Kinesis Data Streams for DynamoDB
            may reorder and duplicate an item's changes, which no watermark can make exact).
        DecodeError: a record has no item identifier (the whole batch must be retried).
    """
    started = time.perf_counter()
    if sink.exactly_once:
        check_envelopes(records, advice="or use an at-least-once sink (ledger=None)")
    identifiers = [r.item_identifier for r in records]
    tally = Tally(len(records))
    parts = _parts(spec, records, namespace, tally)
    live = [p for p in parts if p.index not in tally.failed and p.index not in tally.not_attempted]
    settle_in(spec, sink, live, tally, deadline=deadline, sleep=sleep)
    return result_of(identifiers, tally, time.perf_counter() - started)


def check_envelopes(records: Sequence[StreamRecord[Any]], *, advice: str) -> None:
    """Refuse Kinesis records (raises :class:`UsageError`): Kinesis Data Streams for DynamoDB
    may deliver an item's changes out of order and more than once, which no watermark can make
    exactly once. ``advice`` ends the message."""
    if any(r.envelope == "kinesis" for r in records):
        raise UsageError(
            "Kinesis Data Streams for DynamoDB may deliver an item's changes out of order and "
            "more than once, so its records cannot be applied exactly once: read the table's "
            f"DynamoDB stream, {advice}"
        )


R = TypeVar("R", bound=AggregateResult)


def result_of(
    identifiers: Sequence[str],
    tally: Tally,
    duration: float,
    cls: type[R] = AggregateResult,  # type: ignore[assignment]
) -> R:
    """What ``tally`` says happened to each record, as an :class:`AggregateResult` (or the
    subclass ``cls``)."""
    bad = set(tally.failed) | set(tally.not_attempted)
    errors: dict[int, DDBStreamError] = {}
    for index in sorted(bad):
        error = tally.failed.get(index) or tally.not_attempted[index]
        errors.setdefault(id(error), error)
    return cls(
        processed=tuple(i for n, i in enumerate(identifiers) if n not in bad),
        failed=tuple(identifiers[n] for n in sorted(tally.failed)),
        not_attempted=tuple(
            identifiers[n] for n in sorted(tally.not_attempted) if n not in tally.failed
        ),
        errors=tuple(errors.values()),
        writes=tally.writes,
        duplicates=tally.duplicates,
        filtered=len(tally.filtered - bad),
        deadline_reached=tally.deadline_reached,
        duration=duration,
        unapplied=tuple(identifiers[n] for n in sorted(bad)),
        failures=tuple((identifiers[n], tally.failed[n]) for n in sorted(tally.failed)),
    )


def report(
    result: AggregateResult,
    records: Sequence[StreamRecord[Any]],
    *,
    metrics: MetricsSink | None,
    function: str | None,
    logger: logging.Logger = log,
    component: str = "aggregate",
) -> None:
    """Log each failed record once (WARNING), the batch once (INFO), and publish metrics, on
    ``logger`` and as ``component``."""
    by_id: dict[str, StreamRecord[Any]] = {r.item_identifier: r for r in records}
    for identifier, error in result.failures:
        record = by_id.get(identifier)
        log_record_failure(
            logger,
            event_id=event_id_of(record) if record is not None else None,
            sequence_number=record.sequence_number if record is not None else None,
            item_identifier=identifier,
            reason=error.reason if isinstance(error, DataError) else str(error),
            exc=error if error.__cause__ is not None else None,  # a traceback only for a raise
        )
    if result.deadline_reached:
        logger.warning("stopped %d records before the Lambda deadline", len(result.not_attempted))
    summary = BatchSummary(
        component=component,
        records=len(records),
        processed=len(result.processed),
        failed=len(result.failed),
        not_attempted=len(result.not_attempted),
        filtered=result.filtered,
        duration=result.duration,
        record_age_ms=record_age_ms(_created(r) for r in records),
        function=function,
    )
    log_batch(logger, summary)
    if metrics is not None:
        metrics.publish(summary)


def _created(record: StreamRecord[Any]) -> float | None:
    try:
        when = record.approximate_creation_time
    except DDBStreamError:
        return None
    return None if when is None else when.timestamp()


def function_name(context: object) -> str | None:
    """The Lambda function's name from its context (a metrics dimension), if it has one."""
    name = getattr(context, "function_name", None)
    return name if isinstance(name, str) else None


def event_id_of(record: StreamRecord[Any] | None) -> str | None:
    """The record's ``eventID``, if it has one."""
    if record is None:
        return None
    value = record.lambda_record.get("eventID")
    return value if isinstance(value, str) else None
