"""Failure logs, batch summaries and metrics shared by the Router, aggregator and projections."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from ddbstream import BatchSummary, EmfMetrics, MetricsSink, RouteCounts, UsageError
from ddbstream._observe import (
    PowertoolsMetrics,
    log_batch,
    log_record_failure,
    record_age_ms,
    resolve_metrics,
)


def test_a_failed_record_is_logged_once_with_its_identity(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("ddbstream.test")
    with caplog.at_level(logging.WARNING, logger="ddbstream.test"):
        log_record_failure(
            logger,
            event_id="e1",
            sequence_number="100",
            item_identifier="100",
            reason="Amount is missing",
            route="totals",
        )
    (entry,) = caplog.records
    assert entry.levelno == logging.WARNING
    assert "eventID=e1" in entry.getMessage()
    assert "SequenceNumber=100" in entry.getMessage()
    assert "Amount is missing" in entry.getMessage()
    assert entry.event_id == "e1"  # type: ignore[attr-defined]
    assert entry.sequence_number == "100"  # type: ignore[attr-defined]
    assert entry.route == "totals"  # type: ignore[attr-defined]


def test_the_batch_summary_is_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("ddbstream.test")
    summary = BatchSummary(component="router", records=4, processed=2, failed=1, not_attempted=1)
    with caplog.at_level(logging.INFO, logger="ddbstream.test"):
        log_batch(logger, summary)
    (entry,) = caplog.records
    assert entry.levelno == logging.INFO
    assert entry.getMessage().startswith("batch of 4 records: 2 processed, 1 failed, 1 not")
    assert entry.failed == 1  # type: ignore[attr-defined]


def test_emf_lines_declare_every_value_they_carry() -> None:
    out = io.StringIO()
    summary = BatchSummary(
        component="aggregate",
        records=10,
        processed=9,
        failed=1,
        duration=0.0125,
        record_age_ms=1500.0,
        function="invoices",
        routes={"InvoiceTotal": RouteCounts(matched=9, failed=1, duration=0.01)},
    )
    EmfMetrics(namespace="shop", stream=out).publish(summary)
    batch, route = (json.loads(line) for line in out.getvalue().splitlines())
    for document in (batch, route):
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "shop"
        for dimension in directive["Dimensions"][0]:
            assert isinstance(document[dimension], str)
        for metric in directive["Metrics"]:
            assert isinstance(document[metric["Name"]], int | float)
    assert batch["function"] == "invoices"
    assert (batch["RecordsIn"], batch["RecordsFailed"], batch["RecordAge"]) == (10, 1, 1500.0)
    assert batch["BatchDuration"] == 12.5
    assert route["route"] == "InvoiceTotal"
    assert route["RouteRecords"] == 9


def test_record_age_is_measured_from_the_oldest_record() -> None:
    assert record_age_ms([None, 100.0, 99.5], now=101.0) == 1500.0
    assert record_age_ms([None]) is None


class _Powertools:
    def __init__(self) -> None:
        self.added: list[tuple[str, str, float]] = []

    def add_metric(self, *, name: str, unit: str, value: float) -> None:
        self.added.append((name, unit, value))


def test_metrics_are_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DDBSTREAM_METRICS", raising=False)
    assert resolve_metrics(None) is None
    assert resolve_metrics(False) is None
    assert isinstance(resolve_metrics(True), EmfMetrics)
    monkeypatch.setenv("DDBSTREAM_METRICS", "emf")
    assert isinstance(resolve_metrics(None), EmfMetrics)
    sink: Any = resolve_metrics(_Powertools())
    assert isinstance(sink, PowertoolsMetrics)
    assert isinstance(sink, MetricsSink)
    with pytest.raises(UsageError, match="metrics="):
        resolve_metrics(42)


def test_a_powertools_metrics_object_receives_the_numbers() -> None:
    target = _Powertools()
    PowertoolsMetrics(target).publish(BatchSummary(component="router", records=2, processed=2))
    assert ("RecordsIn", "Count", 2.0) in target.added
    assert ("RecordsProcessed", "Count", 2.0) in target.added
