"""ddbstream.aggregate._spec: the frozen Aggregator (validation, repr, equality), its entry
points (handle / apply / apply_record as a Router route) and their partial batch responses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ddbstream import AggregationError, Router, UsageError
from ddbstream.aggregate import Aggregator, Count, MemorySink, Sum
from ddbstream.testing import EventBuilder


def by_group(image: Any) -> Any:
    return image["Group"]


def _row(tid: str, amount: Any, group: str = "A") -> dict[str, Any]:
    return {"TransactionId": tid, "Group": group, "Amount": amount}


def test_repr_is_the_constructor_and_equal_specs_are_equal() -> None:
    sink = MemorySink()
    a = Aggregator(group_by=by_group, measures={"Total": Sum("Amount")}, sink=sink)
    b = Aggregator(group_by=by_group, measures={"Total": Sum("Amount")}, sink=sink)
    assert repr(a) == (
        "Aggregator(group_by=by_group, measures={'Total': Sum('Amount')}, "
        "sink=MemorySink(exactly_once=True))"
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a != Aggregator(group_by=by_group, measures={"N": Count()}, sink=sink)
    with pytest.raises(AttributeError):
        a.where = None  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"group_by": "Group", "measures": {"T": Sum("a")}}, "group_by"),
        ({"group_by": by_group, "measures": {}}, "non-empty"),
        ({"group_by": by_group, "measures": {"": Sum("a")}}, "names"),
        ({"group_by": by_group, "measures": {"T": object()}}, "algebra"),
    ],
)
def test_bad_specs_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Aggregator(**kwargs)


def test_handle_without_a_sink_is_a_usage_error() -> None:
    spec = Aggregator(group_by=by_group, measures={"T": Sum("Amount")})
    with pytest.raises(UsageError, match="no sink"):
        spec.handle({"Records": []}, None)


def test_a_bad_record_fails_its_item_and_reports_the_lowest_unapplied() -> None:
    b = EventBuilder("T", keys=("TransactionId",))
    first = b.insert(_row("1", 5))
    bad = b.modify(_row("2", 1), _row("2", "x"))
    other = b.insert(_row("3", 7, "B"))
    same_item_later = b.remove(_row("2", "x"))
    spec = Aggregator(group_by=by_group, measures={"T": Sum("Amount")}, sink=MemorySink())
    result = spec.apply(b.lambda_event(first, bad, other, same_item_later))
    assert result.failed == (
        bad["dynamodb"]["SequenceNumber"],
        same_item_later["dynamodb"]["SequenceNumber"],
    )
    assert isinstance(result.errors[0], AggregationError)
    assert spec.snapshot() == {"A": {"T": Decimal(5)}, "B": {"T": Decimal(7)}}
    assert result.response() == {
        "batchItemFailures": [{"itemIdentifier": s} for s in result.failed]
    }


def test_pipes_events_report_event_ids() -> None:
    b = EventBuilder("T", keys=("TransactionId",))
    bad = b.insert(_row("1", "x"))
    spec = Aggregator(group_by=by_group, measures={"T": Sum("Amount")}, sink=MemorySink())
    assert spec.handle(b.pipes_event(bad), None) == {
        "batchItemFailures": [{"itemIdentifier": bad["eventID"]}]
    }


def test_model_bound_images() -> None:
    from pydantic import BaseModel

    class Txn(BaseModel):
        TransactionId: str
        Group: str
        Amount: Decimal

    b = EventBuilder("T", keys=("TransactionId",))
    spec = Aggregator(
        group_by=lambda t: t.Group,
        where=lambda t: t.Amount > 0,
        measures={"T": Sum("Amount"), "N": Count()},
        model=Txn,
        sink=MemorySink(),
    )
    spec.handle(b.lambda_event(b.insert(_row("1", 5)), b.insert(_row("2", -1))), None)
    assert spec.snapshot() == {"A": {"T": Decimal(5), "N": Decimal(1)}}


def test_mounted_as_a_router_route_with_the_same_partial_batch_semantics() -> None:
    b = EventBuilder("T", keys=("TransactionId",))
    spec = Aggregator(group_by=by_group, measures={"T": Sum("Amount")}, sink=MemorySink())
    router = Router()
    router.add(lambda r: r.keys["TransactionId"] != "skip", spec.apply_record)
    good, bad = b.insert(_row("1", 5)), b.insert(_row("2", "x"))
    event = b.lambda_event(good, b.insert(_row("skip", 100)), bad, b.insert(_row("3", 1)))
    response = router.handle(event, None)
    assert response == {
        "batchItemFailures": [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]
    }
    assert spec.snapshot() == {"A": {"T": Decimal(5)}}
    router.handle(b.lambda_event(good), None)  # redelivered: counted once
    assert spec.snapshot() == {"A": {"T": Decimal(5)}}
