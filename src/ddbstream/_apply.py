"""A batch through the exactly-once core, shared by aggregates and projections: the parts a
batch makes (one per record and target, in each source item's lane), what happened to every
record (:class:`AggregateResult`), and the log lines and metrics that report it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ._errors import AggregationError, DataError, DDBStreamError, UsageError
from ._marks import lane_of
from ._observe import BatchSummary, MetricsSink, log_batch, log_record_failure, record_age_ms
from ._records import StreamRecord
from ._settle import Part, Tally
from ._types import BatchResponse

__all__ = [
    "AggregateResult",
    "check_envelopes",
    "event_id_of",
    "function_name",
    "parts_of",
    "report",
    "result_of",
]

ItemId = tuple[str, tuple[tuple[str, str], ...]]
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class AggregateResult:
    """What happened to each record of a batch; nothing is lost silently.

    The names follow :class:`ddbstream.BatchResult` (``processed``, ``failed``,
    ``not_attempted``, ``deadline_reached``, ``duration``, :meth:`response`), but records are
    given by their item identifiers: an aggregate applies a batch as a whole, by group, so no
    record is "the one that failed" the way a route's record is.

    Attributes:
        processed: identifiers of records whose effect is in the sink (applied now, applied by
            an earlier delivery, or with no effect), in batch order.
        failed: records that could not be applied (bad data, a refused total, exhausted
            retries).
        not_attempted: records left for the next delivery: after an earlier failure of the same
            source item, or at the Lambda deadline.
        errors: the distinct errors behind ``failed`` and ``not_attempted``.
        writes: the writes that landed.
        duplicates: records every effect of which an earlier delivery had applied.
        filtered: records that ``where`` or ``group_by`` left out (no image in any group).
        deadline_reached: the batch stopped before the Lambda deadline.
        duration: seconds spent on the batch.
        unapplied: ``failed`` and ``not_attempted`` together, in batch order: what the partial
            batch response reports.
        failures: each failed record's identifier with the error that failed it.

    Example:
        >>> AggregateResult(processed=("1",), failed=("2",), unapplied=("2",)).response()
        {'batchItemFailures': [{'itemIdentifier': '2'}]}
    """

    processed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    not_attempted: tuple[str, ...] = ()
    errors: tuple[DDBStreamError, ...] = ()
    writes: int = 0
    duplicates: int = 0
    filtered: int = 0
    deadline_reached: bool = False
    duration: float = 0.0
    unapplied: tuple[str, ...] = ()
    failures: tuple[tuple[str, DDBStreamError], ...] = ()

    @property
    def ok(self) -> bool:
        """True when every record's effect is in the sink."""
        return not self.failed and not self.not_attempted

    @property
    def transactions(self) -> int:
        """Deprecated: :attr:`writes` (not every write is a transaction any more)."""
        warnings.warn(
            "AggregateResult.transactions is deprecated; use AggregateResult.writes",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.writes

    def response(self) -> BatchResponse:
        """The ReportBatchItemFailures response: every record not applied, in batch order.

        Lambda checkpoints at the lowest one and redelivers from there; records after it that
        were applied are skipped by their watermarks on redelivery.
        """
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.unapplied]}


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
    logger: logging.Logger,
    component: str,
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
