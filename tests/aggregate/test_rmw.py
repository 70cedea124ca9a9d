"""ddbstream.aggregate._rmw: read-modify-write storage: plain values, conditions on what was
combined, and the bounded cache of items the sink has seen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ddbstream.aggregate import Latest, Max, Sum
from ddbstream.aggregate._request import Update
from ddbstream.aggregate._rmw import Known, is_register, order_attribute, read_state, write_state


def test_latest_stores_its_plain_value_and_its_order_under_a_bookkeeping_name() -> None:
    update = Update()
    latest = Latest("Status")
    write_state(update, "Last", latest, {}, (7, 7, "paid"))
    params = update.params("T", {"pk": {"S": "a"}})
    values = params["ExpressionAttributeValues"]
    assert {"S": "paid"} in values.values()
    assert order_attribute("Last") == "_latest_Last"
    assert "attribute_not_exists" in params["ConditionExpression"]
    stored = {"Last": {"S": "paid"}, "_latest_Last": {"S": '[{"N":"7"},"7"]'}}
    assert read_state("Last", latest, stored) == (7, 7, "paid")


def test_a_write_is_conditioned_on_the_value_it_combined_with() -> None:
    update = Update()
    write_state(update, "Top", Max("x"), {"Top": {"N": "5"}}, Decimal(9))
    update_expression, condition = update.expressions()
    assert update_expression == "SET #n0 = :v0"
    assert condition == "#n0 = :v1"
    assert update.values == {":v0": {"N": "9"}, ":v1": {"N": "5"}}
    unchanged = Update()
    write_state(unchanged, "Top", Max("x"), {"Top": {"N": "9"}}, Decimal(5))
    assert unchanged.empty


def test_binary_latest_values_round_trip() -> None:
    stored: dict[str, Any] = {"Raw": {"B": b"\x00\x01"}, "_latest_Raw": {"S": '[{"N":"1"},"1"]'}}
    assert read_state("Raw", Latest("Raw"), stored) == (1, 1, b"\x00\x01")


def test_registers_are_the_measures_add_cannot_keep() -> None:
    assert is_register(Max("x"))
    assert is_register(Latest("x"))
    assert not is_register(Sum("x"))


def test_the_cache_forgets_the_least_recently_used() -> None:
    known = Known(size=2)
    known.put("a", {"x": 1})
    known.put("b", {"x": 2})
    assert known.get("a") == {"x": 1}
    known.put("c", {"x": 3})
    assert known.get("b") is None
    assert known.get("a") is not None
    known.forget("a")
    assert known.get("a") is None
