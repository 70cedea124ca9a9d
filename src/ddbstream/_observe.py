"""What a stream function tells its operators: one log line per failed record, one summary per
batch, and optional CloudWatch metrics, shared by the Router, the aggregator and projections.

Logs go through the standard :mod:`logging` module under ``ddbstream.<component>`` and carry the
record's identity as structured fields (``extra``): ``event_id``, ``sequence_number``,
``item_identifier``, so a JSON log formatter (Powertools' ``Logger`` among them) shows them as
keys. Metrics are off by default; :func:`resolve_metrics` turns them on from an argument or the
``DDBSTREAM_METRICS`` environment variable and writes CloudWatch Embedded Metric Format (EMF): a
JSON line on stdout that CloudWatch Logs turns into metrics, with no AWS call and no dependency.
A Powertools ``Metrics`` object may be passed instead, and then receives the same numbers.

Example:
    >>> import io, json
    >>> out = io.StringIO()
    >>> EmfMetrics(stream=out).publish(BatchSummary(component="router", records=3, processed=3))
    >>> line = json.loads(out.getvalue())
    >>> line["RecordsIn"], line["RecordsProcessed"], line["component"]
    (3, 3, 'router')
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol, runtime_checkable

from ._errors import UsageError

__all__ = [
    "METRICS_ENV",
    "BatchSummary",
    "EmfMetrics",
    "MetricsSink",
    "PowertoolsMetrics",
    "RouteCounts",
    "log_batch",
    "log_record_failure",
    "record_age_ms",
    "resolve_metrics",
]

METRICS_ENV = "DDBSTREAM_METRICS"
"""Environment variable: ``emf`` (or ``1``/``true``) turns EMF metrics on for every component."""

NAMESPACE_ENV = "DDBSTREAM_METRICS_NAMESPACE"
"""Environment variable: the CloudWatch namespace of EMF metrics (default ``ddbstream``)."""

_TRUE = frozenset({"1", "true", "yes", "on", "emf"})


@dataclass(frozen=True, slots=True)
class RouteCounts:
    """Records one route (or measure group, or projection target) saw in a batch."""

    matched: int = 0
    failed: int = 0
    duration: float = 0.0


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """The numbers of one batch, as logged and published.

    Attributes:
        component: ``"router"``, ``"aggregate"``, ``"project"`` or ``"runner"``.
        records: records in the event.
        processed: records whose work is done (or was already done: duplicates count here).
        failed: records reported as batch item failures because they failed.
        not_attempted: records reported because an earlier one failed, or the deadline came.
        filtered: records a local condition skipped (no route or ``where`` matched).
        dead_lettered: records handed to a dead-letter callback (not reported to Lambda).
        duration: seconds spent on the batch.
        record_age_ms: now minus the oldest ``ApproximateCreationDateTime`` of the batch: the
            function's view of the mapping's IteratorAge (None without timestamps).
        function: the Lambda function's name (a dimension).
        routes: per route (or target) counts, published with a ``route`` dimension.
    """

    component: str
    records: int = 0
    processed: int = 0
    failed: int = 0
    not_attempted: int = 0
    filtered: int = 0
    dead_lettered: int = 0
    duration: float = 0.0
    record_age_ms: float | None = None
    function: str | None = None
    routes: Mapping[str, RouteCounts] = field(default_factory=dict)


def record_age_ms(
    creation_times: Iterable[float | None], *, now: float | None = None
) -> float | None:
    """Milliseconds since the oldest creation time (epoch seconds); None if there is none."""
    oldest = min((t for t in creation_times if t is not None), default=None)
    if oldest is None:
        return None
    return max(0.0, ((time.time() if now is None else now) - oldest) * 1000.0)


def log_record_failure(
    logger: logging.Logger,
    *,
    event_id: str | None,
    sequence_number: str | None,
    item_identifier: str | None,
    reason: str,
    exc: BaseException | None = None,
    route: str | None = None,
    record_index: int | None = None,
) -> None:
    """Log one failed record once, at WARNING, with its identity in the message and as fields
    (``record_index``, the record's position in its batch, as a field only)."""
    where = f" in {route}" if route else ""
    logger.warning(
        "record failed%s: eventID=%s SequenceNumber=%s: %s",
        where,
        event_id,
        sequence_number,
        reason,
        exc_info=exc if exc is not None and not isinstance(exc, UsageError) else None,
        extra={
            "event_id": event_id,
            "sequence_number": sequence_number,
            "item_identifier": item_identifier,
            "route": route,
            "record_index": record_index,
        },
    )


def log_batch(logger: logging.Logger, summary: BatchSummary) -> None:
    """Log the batch's one INFO summary line, with the counts as fields."""
    age = "-" if summary.record_age_ms is None else f"{summary.record_age_ms:.0f} ms"
    dead = f", {summary.dead_lettered} dead-lettered" if summary.dead_lettered else ""
    logger.info(
        "batch of %d records: %d processed, %d failed, %d not attempted, %d filtered, "
        "%.1f ms, oldest record %s%s",
        summary.records,
        summary.processed,
        summary.failed,
        summary.not_attempted,
        summary.filtered,
        summary.duration * 1000.0,
        age,
        dead,
        extra={
            "records": summary.records,
            "processed": summary.processed,
            "failed": summary.failed,
            "not_attempted": summary.not_attempted,
            "filtered": summary.filtered,
            "dead_lettered": summary.dead_lettered,
            "duration_ms": summary.duration * 1000.0,
            "record_age_ms": summary.record_age_ms,
        },
    )


@runtime_checkable
class MetricsSink(Protocol):
    """Receives each batch's summary; see :class:`EmfMetrics` and :class:`PowertoolsMetrics`."""

    def publish(self, summary: BatchSummary) -> None:
        """Record the numbers of one batch."""


_BATCH_METRICS = (
    ("RecordsIn", "records", "Count"),
    ("RecordsProcessed", "processed", "Count"),
    ("RecordsFailed", "failed", "Count"),
    ("RecordsNotAttempted", "not_attempted", "Count"),
    ("RecordsFilteredLocally", "filtered", "Count"),
    ("RecordsDeadLettered", "dead_lettered", "Count"),
)


def _values(summary: BatchSummary) -> list[tuple[str, float, str]]:
    values = [(name, float(getattr(summary, attr)), unit) for name, attr, unit in _BATCH_METRICS]
    values.append(("BatchDuration", summary.duration * 1000.0, "Milliseconds"))
    if summary.record_age_ms is not None:
        values.append(("RecordAge", summary.record_age_ms, "Milliseconds"))
    return values


def _function_name(summary: BatchSummary) -> str:
    return summary.function or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "local"


@dataclass(frozen=True, slots=True)
class EmfMetrics:
    """CloudWatch Embedded Metric Format lines on stdout: one per batch, one per route.

    Dimensions are ``function`` and ``component`` for the batch line, plus ``route`` for the
    route lines. Numbers are integers where they count records.

    Args:
        namespace: the CloudWatch namespace (default ``DDBSTREAM_METRICS_NAMESPACE`` or
            ``ddbstream``).
        stream: where to write (default ``sys.stdout``, read at each write).
    """

    namespace: str | None = None
    stream: IO[str] | None = None

    def publish(self, summary: BatchSummary) -> None:
        namespace = self.namespace or os.environ.get(NAMESPACE_ENV) or "ddbstream"
        base = {"function": _function_name(summary), "component": summary.component}
        lines = [self._line(namespace, base, _values(summary))]
        for route, counts in summary.routes.items():
            values = [
                ("RouteRecords", float(counts.matched), "Count"),
                ("RouteFailures", float(counts.failed), "Count"),
                ("RouteDuration", counts.duration * 1000.0, "Milliseconds"),
            ]
            lines.append(self._line(namespace, {**base, "route": route}, values))
        out = self.stream if self.stream is not None else sys.stdout
        out.write("".join(lines))
        out.flush()

    @staticmethod
    def _line(
        namespace: str, dimensions: Mapping[str, str], values: list[tuple[str, float, str]]
    ) -> str:
        document: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": name, "Unit": unit} for name, _, unit in values],
                    }
                ],
            },
            **dimensions,
        }
        for name, value, unit in values:
            document[name] = int(value) if unit == "Count" else round(value, 3)
        return json.dumps(document, separators=(",", ":")) + "\n"


@dataclass(frozen=True, slots=True)
class PowertoolsMetrics:
    """Hands each batch's numbers to a Powertools ``Metrics`` object (``add_metric``); you flush
    it as usual (``@metrics.log_metrics``). Route numbers get the route in the metric name,
    because Powertools' dimensions apply to every metric of a flush."""

    metrics: Any

    def publish(self, summary: BatchSummary) -> None:
        prefix = "" if summary.component == "router" else f"{summary.component.capitalize()}"
        for name, value, unit in _values(summary):
            self.metrics.add_metric(name=f"{prefix}{name}", unit=unit, value=value)
        for route, counts in summary.routes.items():
            self.metrics.add_metric(name=f"{route}.Records", unit="Count", value=counts.matched)
            self.metrics.add_metric(name=f"{route}.Failures", unit="Count", value=counts.failed)


def resolve_metrics(metrics: bool | str | MetricsSink | Any | None) -> MetricsSink | None:
    """The metrics sink a component publishes to.

    Args:
        metrics: ``None`` (the default): EMF when ``DDBSTREAM_METRICS`` is ``emf``/``1``/``true``,
            else none; ``True`` or ``"emf"``: :class:`EmfMetrics`; ``False``: none; a
            :class:`MetricsSink`; or a Powertools ``Metrics`` object (anything with
            ``add_metric``).

    Raises:
        UsageError: anything else.
    """
    if metrics is None:
        return EmfMetrics() if os.environ.get(METRICS_ENV, "").lower() in _TRUE else None
    if metrics is True or metrics == "emf":
        return EmfMetrics()
    if metrics is False:
        return None
    if isinstance(metrics, MetricsSink):
        return metrics
    if callable(getattr(metrics, "add_metric", None)):
        return PowertoolsMetrics(metrics)
    raise UsageError(
        f"metrics={metrics!r} must be True, 'emf', False, a MetricsSink or a Powertools Metrics"
    )
