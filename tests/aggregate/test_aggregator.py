"""ddbstream.aggregate._aggregator: the facade (a spec bound to a sink and a delivery): entry
points and their partial batch responses, the Lambda deadline, the filter it runs behind,
metrics, aggregators sharing a table, and the names that moved."""

from __future__ import annotations

import io
import json
import logging
from decimal import Decimal
from typing import Any

import pytest

from ddbstream import EmfMetrics, Router, TransientError, UsageError
from ddbstream.aggregate import Aggregator, Count, Latest, Max, MemorySink, Retry, Sum
from ddbstream.filters import FilterCriteria, event_name
from ddbstream.testing import EventBuilder, FakeLambdaContext

B = EventBuilder("T", keys=("TransactionId",))


def by_group(image: Any) -> Any:
    return image["Group"]


def _row(tid: str, amount: Any, group: str = "A") -> dict[str, Any]:
    return {"TransactionId": tid, "Group": group, "Amount": amount}


def test_repr_is_the_constructor_and_equal_aggregators_are_equal() -> None:
    sink = MemorySink()
    a = Aggregator(group_by=by_group, measures={"Total": Sum("Amount")}, sink=sink)
    b = Aggregator(group_by=by_group, measures={"Total": Sum("Amount")}, sink=sink)
    assert repr(a) == (
        "Aggregator(group_by=by_group, measures={'Total': Sum('Amount')}, sink=MemorySink())"
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a != Aggregator(group_by=by_group, measures={"N": Count()}, sink=sink)
    wide = Aggregator("Group", {"N": Count()}, parallelization_factor=4, deadline_margin_ms=5)
    assert repr(wide) == (
        "Aggregator(group_by='Group', measures={'N': Count()}, parallelization_factor=4, "
        "deadline_margin_ms=5)"
    )
    assert (a.group_by, dict(a.measures), a.where, a.model) == (
        by_group,
        {"Total": Sum("Amount")},
        None,
        None,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"parallelization_factor": 0}, "parallelization_factor"),
        ({"parallelization_factor": 11}, "parallelization_factor"),
        ({"parallelization_factor": True}, "parallelization_factor"),
        ({"deadline_margin_ms": -1}, "deadline_margin_ms"),
        ({"sink": object()}, "sink"),
        ({"filter": 3}, "filter"),
        ({"metrics": 3}, "metrics"),
    ],
)
def test_bad_arguments_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Aggregator("Group", {"N": Count()}, **kwargs)


def test_handle_without_a_sink_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no sink"):
        Aggregator(by_group, {"T": Sum("Amount")}).handle({"Records": []}, None)


def test_pipes_events_report_event_ids() -> None:
    bad = B.insert(_row("1", "x"))
    aggregator = Aggregator(by_group, {"T": Sum("Amount")}, sink=MemorySink())
    assert aggregator.handle(B.pipes_event(bad), None) == {
        "batchItemFailures": [{"itemIdentifier": bad["eventID"]}]
    }


def test_mounted_as_a_router_route_with_the_same_partial_batch_semantics() -> None:
    aggregator = Aggregator(by_group, {"T": Sum("Amount")}, sink=MemorySink())
    router = Router()
    router.add(lambda r: r.keys["TransactionId"] != "skip", aggregator.apply_record)
    good, bad = B.insert(_row("1", 5)), B.insert(_row("2", "x"))
    event = B.lambda_event(good, B.insert(_row("skip", 100)), bad, B.insert(_row("3", 1)))
    assert router.handle(event, None) == {
        "batchItemFailures": [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]
    }
    assert aggregator.snapshot() == {"A": {"T": Decimal(5)}}
    router.handle(B.lambda_event(good), None)  # redelivered: counted once
    assert aggregator.snapshot() == {"A": {"T": Decimal(5)}}


def test_the_lambda_deadline_stops_the_writes_and_reports_what_is_left() -> None:
    context = FakeLambdaContext(remaining_ms=900)  # under the default 1 s margin
    aggregator = Aggregator(by_group, {"T": Sum("Amount")}, sink=MemorySink())
    event = B.lambda_event(B.insert(_row("1", 5)), B.insert(_row("2", 7, "B")))
    result = aggregator.apply(event, context)
    assert result.deadline_reached
    assert result.unapplied == tuple(r["dynamodb"]["SequenceNumber"] for r in event["Records"])
    assert aggregator.snapshot() == {}
    assert aggregator.handle(event, FakeLambdaContext(remaining_ms=60_000)) == {
        "batchItemFailures": []
    }


def test_backoff_never_sleeps_into_the_deadline() -> None:
    def throttled(write: Any, phase: str) -> None:
        if phase == "before":
            raise TransientError("throttled")

    context = FakeLambdaContext(remaining_ms=3000)
    sink = MemorySink(fault=throttled, retry=Retry(attempts=50, base=5.0, cap=5.0))
    aggregator = Aggregator(by_group, {"T": Sum("Amount")}, sink=sink, deadline_margin_ms=2500)
    result = aggregator.apply(B.lambda_event(B.insert(_row("1", 5))), context)
    assert result.unapplied


def test_a_filter_that_drops_needed_record_kinds_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="ddbstream.aggregate")
    inserts_only = FilterCriteria([event_name == "INSERT"])
    Aggregator(by_group, {"T": Sum("Amount"), "Last": Latest("Amount")}, filter=inserts_only)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "drops every MODIFY record" in messages[0]
    assert "T=Sum('Amount')" in messages[0]
    assert "Last=Latest('Amount')" in messages[0]
    assert "drops every REMOVE record" in messages[1]
    assert "Latest" not in messages[1]  # a register ignores deletes
    caplog.clear()
    Aggregator(by_group, {"T": Sum("Amount")}, filter=inserts_only.to_dict() | {"Filters": []})
    Aggregator(by_group, {"Top": Max("Amount")}, filter=FilterCriteria([event_name != "REMOVE"]))
    assert not caplog.records


def test_metrics_publish_each_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    aggregator = Aggregator(
        by_group, {"T": Sum("Amount")}, sink=MemorySink(), metrics=EmfMetrics(stream=out)
    )
    aggregator.handle(B.lambda_event(B.insert(_row("1", 5)), B.insert(_row("2", "x"))), None)
    line = json.loads(out.getvalue())
    assert (line["component"], line["RecordsIn"], line["RecordsFailed"]) == ("aggregate", 2, 1)
    monkeypatch.setenv("DDBSTREAM_METRICS", "emf")
    printed = Aggregator(by_group, {"N": Count()}, sink=MemorySink())
    assert printed._metrics is not None


def test_aggregators_sharing_a_table_write_distinct_attributes_or_the_same_way() -> None:
    from ddbstream.aggregate import DynamoDBSink

    table = "SharedTotals-test-claims"
    Aggregator(by_group, {"Total": Sum("Amount")}, sink=DynamoDBSink(table, key="pk"))
    Aggregator(by_group, {"Total": Sum("Amount")}, sink=DynamoDBSink(table, key="pk"))
    Aggregator("Customer", {"Orders": Count()}, sink=DynamoDBSink(table, key="pk"))
    with pytest.raises(UsageError, match="'Total'"):
        Aggregator(by_group, {"Total": Sum("Tax")}, sink=DynamoDBSink(table, key="pk"))
    with pytest.raises(UsageError, match="'Total'"):
        Aggregator(
            by_group, {"Total": Sum("Amount"), "N": Count()}, sink=DynamoDBSink(table, key="pk")
        )


def test_two_aggregators_on_one_stream_and_one_memory_sink_are_both_exact() -> None:
    sink = MemorySink()
    totals = Aggregator(by_group, {"Total": Sum("Amount")}, sink=sink)
    counts = Aggregator("TransactionId", {"N": Count()}, sink=sink)
    event = B.lambda_event(B.insert(_row("1", 5)), B.insert(_row("2", 7)))
    for _ in range(2):
        assert totals.handle(event, None) == counts.handle(event, None) == {"batchItemFailures": []}
    assert totals.snapshot()["A"] == {"Total": Decimal(12)}
    assert counts.snapshot()["1"] == {"N": Decimal(1)}


@pytest.mark.parametrize("name", ["TransientError", "Change", "DYNAMODB_CONTEXT", "handle_window"])
def test_names_that_left_the_surface_still_work_with_a_warning(name: str) -> None:
    import ddbstream.aggregate as aggregate

    with pytest.warns(DeprecationWarning, match=name):
        assert getattr(aggregate, name) is not None
    assert name not in aggregate.__all__
