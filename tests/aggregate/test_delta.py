"""ddbstream.aggregate._delta: delta semantics of INSERT/MODIFY/REMOVE, where, group moves,
view types, append-only measures and coalescing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import AggregationError, StreamEvent
from ddbstream.aggregate import Aggregator, Count, Latest, Max, Sum
from ddbstream.testing import EventBuilder

from ._simulate import histories


def _records(*raw: dict[str, Any]) -> tuple[Any, ...]:
    return StreamEvent.from_lambda({"Records": list(raw)}).records


def _spec(**extra: Any) -> Aggregator:
    measures = extra.pop("measures", {"Total": Sum("Amount"), "N": Count()})
    return Aggregator(group_by=lambda i: i["Group"], measures=measures, **extra)


def _item(group: str, amount: int, status: str = "ok") -> dict[str, Any]:
    return {"TransactionId": "1", "Group": group, "Amount": amount, "Status": status}


B = EventBuilder("T", keys=("TransactionId",))


def test_insert_modify_remove() -> None:
    spec = _spec()
    a, b = _item("A", 100), _item("A", 150)
    assert spec.deltas(_records(B.insert(a))) == {"A": {"Total": 100, "N": 1}}
    assert spec.deltas(_records(B.modify(a, b))) == {"A": {"Total": 50}}
    assert spec.deltas(_records(B.remove(b))) == {"A": {"Total": -150, "N": -1}}
    assert spec.deltas(_records(B.insert(a), B.modify(a, b), B.remove(b))) == {}


def test_a_group_move_subtracts_from_the_old_group_and_adds_to_the_new() -> None:
    deltas = _spec().deltas(_records(B.modify(_item("A", 100), _item("B", 120))))
    assert deltas == {"A": {"Total": -100, "N": -1}, "B": {"Total": 120, "N": 1}}


def test_entering_and_leaving_where_is_an_insertion_and_a_removal() -> None:
    spec = _spec(where=lambda i: i["Status"] == "ok")
    ok, void = _item("A", 10), _item("A", 10, "void")
    assert spec.deltas(_records(B.modify(ok, void))) == {"A": {"Total": -10, "N": -1}}
    assert spec.deltas(_records(B.modify(void, ok))) == {"A": {"Total": 10, "N": 1}}
    assert spec.deltas(_records(B.insert(void))) == {}


@pytest.mark.parametrize(
    ("view", "maker", "needs"),
    [
        ("NEW_IMAGE", lambda b: b.modify(_item("A", 1), _item("A", 2)), "NEW_AND_OLD_IMAGES"),
        ("NEW_IMAGE", lambda b: b.remove(_item("A", 1)), "OLD_IMAGE or NEW_AND_OLD_IMAGES"),
        ("KEYS_ONLY", lambda b: b.insert(_item("A", 1)), "NEW_IMAGE or NEW_AND_OLD_IMAGES"),
        ("OLD_IMAGE", lambda b: b.insert(_item("A", 1)), "NEW_IMAGE or NEW_AND_OLD_IMAGES"),
    ],
)
def test_missing_images_name_the_view_type_to_enable(view: Any, maker: Any, needs: str) -> None:
    builder = EventBuilder("T", keys=("TransactionId",), view_type=view)
    record = maker(builder)
    with pytest.raises(AggregationError, match=f"enable the {needs} stream view type") as info:
        _spec().deltas(_records(record))
    assert info.value.sequence_number == record["dynamodb"]["SequenceNumber"]
    assert view in str(info.value)


def test_append_only_measures_refuse_retractions_but_accept_growth_in_place() -> None:
    spec = _spec(measures={"Best": Max("Amount")})
    assert spec.deltas(_records(B.modify(_item("A", 1), _item("A", 5)))) == {"A": {"Best": 5}}
    with pytest.raises(AggregationError, match="append-only"):
        spec.deltas(_records(B.modify(_item("A", 5), _item("A", 1))))
    with pytest.raises(AggregationError, match="append-only"):
        spec.deltas(_records(B.remove(_item("A", 5))))
    with pytest.raises(AggregationError, match="append-only"):
        spec.deltas(_records(B.modify(_item("A", 5), _item("B", 6))))


def test_latest_ignores_deletes() -> None:
    spec = _spec(measures={"Last": Latest("Amount")})
    records = _records(B.insert(_item("A", 1)), B.modify(_item("A", 1), _item("A", 2)))
    assert spec.results(spec.deltas(records)) == {"A": {"Last": 2}}
    assert spec.deltas(_records(B.remove(_item("A", 2)))) == {}


def test_bad_values_are_errors_located_in_the_record() -> None:
    record = B.insert({**_item("A", 1), "Amount": "lots"})
    with pytest.raises(AggregationError) as info:
        _spec().deltas(_records(record))
    assert info.value.event_id == record["eventID"]
    with pytest.raises(AggregationError, match="group_by"):
        _spec().deltas(_records(B.insert({"TransactionId": "9", "Amount": 1})))


@given(history=histories(), seed=st.randoms())
def test_coalescing_is_order_independent_and_moves_conserve_the_grand_total(history, seed) -> None:
    spec = _spec()
    records = list(_records(*history.records))
    deltas = spec.deltas(records)
    shuffled = records[:]
    seed.shuffle(shuffled)
    assert spec.deltas(shuffled) == deltas
    grand = sum((d.get("Total", Decimal(0)) for d in deltas.values()), Decimal(0))
    assert grand == sum((i["Amount"] for i in history.table.values()), Decimal(0))
    halves = spec.merger(
        spec.deltas(records[: len(records) // 2]), spec.deltas(records[len(records) // 2 :])
    )
    assert halves == deltas
    state = spec.builder()
    for record in records:
        state = spec.folder(state, record)
    assert state == deltas


def test_where_accepts_a_filters_dsl_expression_evaluated_per_image() -> None:
    from ddbstream.filters import new_image

    spec = _spec(where=new_image("Status", descriptor="S") == "ok")
    ok, void = _item("A", 10), _item("A", 10, "void")
    assert spec.deltas(_records(B.modify(ok, void))) == {"A": {"Total": -10, "N": -1}}
    assert spec.deltas(_records(B.insert(ok))) == {"A": {"Total": 10, "N": 1}}
