"""ddbstream.aggregate._measures: exact arithmetic under DynamoDB's number rules (the codec's),
and how measures read attributes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ddbstream import AggregationError
from ddbstream.aggregate import Sum
from ddbstream.aggregate._measures import exact, read_attribute


def test_numbers_are_exact_and_never_rounded() -> None:
    big = Decimal("9" * 38)
    assert Sum("x").combine(big, Decimal(1)) == Decimal("1E+38")  # 1 significant digit
    with pytest.raises(AggregationError, match="39 significant digits"):
        Sum("x").combine(big, Decimal("0.5"))
    with pytest.raises(AggregationError, match=r"9\.99\.\.\.E\+125"):
        Sum("x").combine(Decimal("9.99E+125"), Decimal("1E+125"))
    with pytest.raises(AggregationError):
        Sum("x").combine(Decimal("1E+125"), Decimal("1E-10"))
    assert exact(lambda: Decimal("0.1") + Decimal("0.2"), "x") == Decimal("0.3")
    assert exact(lambda: Decimal("1E-130") - Decimal("1E-130"), "x") == 0


def test_attributes_are_read_from_mappings_models_and_functions() -> None:
    class Txn:
        amount = Decimal(3)

    assert read_attribute({"a": 1}, "a") == 1
    assert read_attribute(Txn(), "amount") == 3
    assert read_attribute({"a": 1}, lambda image: image["a"] + 1) == 2
    assert read_attribute({}, "a") is None
    assert Sum(lambda t: t.amount).lift(Txn()) == 3
