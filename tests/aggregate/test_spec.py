"""ddbstream.aggregate._spec: the frozen AggregateSpec and its algebra: INSERT/MODIFY/REMOVE
deltas, where, group moves, view types, append-only measures, coalescing, group keys, and
errors that name the record and the attribute."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import AggregationError, StreamEvent, UsageError
from ddbstream.aggregate import AggregateSpec, Count, Latest, Max, Sum
from ddbstream.testing import EventBuilder

from ._simulate import histories


def _records(*raw: dict[str, Any]) -> tuple[Any, ...]:
    return StreamEvent.from_lambda({"Records": list(raw)}).records


def by_group(image: Any) -> Any:
    return image["Group"]


def _spec(**extra: Any) -> AggregateSpec[Any]:
    measures = extra.pop("measures", {"Total": Sum("Amount"), "N": Count()})
    return AggregateSpec(extra.pop("group_by", by_group), measures, **extra)


def _item(group: str, amount: Any, status: str = "ok") -> dict[str, Any]:
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
    effect = spec.effect(_records(B.insert(void))[0])
    assert effect.deltas == {}
    assert effect.filtered


def test_where_accepts_a_filters_dsl_expression_evaluated_per_image() -> None:
    from ddbstream.filters import keys, new_image

    spec = _spec(where=new_image("Status", descriptor="S") == "ok")
    ok, void = _item("A", 10), _item("A", 10, "void")
    assert spec.deltas(_records(B.modify(ok, void))) == {"A": {"Total": -10, "N": -1}}
    assert spec.deltas(_records(B.insert(ok))) == {"A": {"Total": 10, "N": 1}}
    by_key = _spec(where=keys("TransactionId", descriptor="S") == "1")
    assert by_key.deltas(_records(B.remove(ok))) == {"A": {"Total": -10, "N": -1}}


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
    for change in (
        B.modify(_item("A", 5), _item("A", 1)),
        B.remove(_item("A", 5)),
        B.modify(_item("A", 5), _item("B", 6)),
    ):
        with pytest.raises(AggregationError, match="append-only"):
            spec.deltas(_records(change))


def test_latest_ignores_deletes_and_gives_the_plain_value() -> None:
    spec = _spec(measures={"Last": Latest("Amount")})
    records = _records(B.insert(_item("A", 1)), B.modify(_item("A", 1), _item("A", 2)))
    assert spec.results(spec.deltas(records)) == {"A": {"Last": 2}}
    assert spec.deltas(_records(B.remove(_item("A", 2)))) == {}


def test_errors_name_the_record_the_image_and_the_attribute() -> None:
    record = B.insert({**_item("A", 1), "Amount": "lots"})
    with pytest.raises(AggregationError) as info:
        _spec().deltas(_records(record))
    assert info.value.event_id == record["eventID"]
    assert info.value.path == ("NewImage", "Amount")
    with pytest.raises(AggregationError, match=r"'Group'.*lacks.*Amount, TransactionId") as info:
        _spec().deltas(_records(B.insert({"TransactionId": "9", "Amount": 1})))
    assert info.value.path == ("NewImage", "Group")
    old = B.remove({"TransactionId": "9", "Group": "A"})
    with pytest.raises(AggregationError, match="Sum reads 'Amount'") as info:
        _spec().deltas(_records(old))
    assert info.value.path == ("OldImage", "Amount")


def test_a_group_by_attribute_name_is_read_loudly() -> None:
    spec = _spec(group_by="Group")
    assert spec.deltas(_records(B.insert(_item("A", 1)))) == {"A": {"Total": 1, "N": 1}}
    with pytest.raises(AggregationError, match="group_by reads 'Group'"):
        spec.deltas(_records(B.insert({"TransactionId": "2", "Amount": 1})))


def test_whatever_user_code_raises_becomes_the_records_error() -> None:
    def broken(image: Any) -> Any:
        raise ZeroDivisionError("boom")

    with pytest.raises(AggregationError, match="ZeroDivisionError: boom") as info:
        _spec(group_by=broken).deltas(_records(B.insert(_item("A", 1))))
    assert isinstance(info.value.__cause__, ZeroDivisionError)


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


def test_model_bound_images() -> None:
    from pydantic import BaseModel

    class Txn(BaseModel):
        TransactionId: str
        Group: str
        Amount: Decimal

    spec = AggregateSpec(
        lambda t: t.Group, {"T": Sum("Amount")}, where=lambda t: t.Amount > 0, model=Txn
    )
    records = _records(B.insert(_item("A", 5)), B.insert({**_item("A", -1), "TransactionId": "2"}))
    assert spec.deltas(records) == {"A": {"T": 5}}


def test_repr_equality_and_frozenness() -> None:
    spec = _spec()
    assert repr(spec) == (
        "AggregateSpec(group_by=by_group, measures={'Total': Sum('Amount'), 'N': Count()})"
    )
    assert spec == _spec()
    assert hash(spec) == hash(_spec())
    assert spec != _spec(measures={"N": Count()})
    with pytest.raises(AttributeError):
        spec.where = None  # type: ignore[misc]
    assert spec.columns() == {"Total": ("Total",), "N": ("N",)}
    assert spec.fingerprint() == _spec(group_by="Other").fingerprint()
    assert spec.fingerprint() != _spec(measures={"Total": Sum("Tax")}).fingerprint()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((123, {"T": Sum("a")}), "group_by"),
        (("", {"T": Sum("a")}), "group_by"),
        ((by_group, {}), "non-empty"),
        ((by_group, {"": Sum("a")}), "names"),
        ((by_group, {"_T": Sum("a")}), "bookkeeping"),
        ((by_group, {"T": object()}), "algebra"),
    ],
)
def test_bad_specs_are_usage_errors(args: tuple[Any, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        AggregateSpec(*args)
    with pytest.raises(UsageError, match="where"):
        AggregateSpec(by_group, {"T": Sum("a")}, where=42)  # type: ignore[arg-type]
