"""ddbstream.aggregate._sums: the algebra Sum, Count and Average claim, and loud absent
attributes (an error naming them, unless the measure says otherwise)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import AggregationError
from ddbstream.aggregate import Additive, Average, Count, Measure, Sequenced, Sum

numbers = st.decimals(min_value=-(10**20), max_value=10**20, places=4, allow_nan=False)


@given(a=numbers, b=numbers, c=numbers)
def test_sum_is_an_abelian_group(a: Decimal, b: Decimal, c: Decimal) -> None:
    s = Sum("x")
    assert s.combine(a, s.combine(b, c)) == s.combine(s.combine(a, b), c)
    assert s.combine(a, b) == s.combine(b, a)
    assert s.combine(a, s.zero()) == a
    assert s.combine(a, s.inverse(a)) == s.zero()


@given(a=numbers, b=numbers)
def test_average_keeps_sum_and_count(a: Decimal, b: Decimal) -> None:
    avg = Average("x")
    state = avg.combine(avg.lift({"x": a}), avg.lift({"x": b}))
    assert state == (a + b, Decimal(2))
    assert avg.combine(state, avg.inverse(avg.lift({"x": b}))) == (a, Decimal(1))
    assert avg.load(avg.dump(state)) == state
    assert avg.join(avg.split(state)) == state
    assert avg.columns("Score") == ("ScoreSum", "ScoreCount")


def test_an_absent_attribute_is_an_error_naming_it_and_the_attributes_present() -> None:
    with pytest.raises(AggregationError) as info:
        Sum("Amount").lift({"Amuont": 3, "InvoiceNumber": "A"})
    assert info.value.path == ("Amount",)
    assert "'Amount'" in info.value.reason
    assert "Amuont, InvoiceNumber" in info.value.reason
    with pytest.raises(AggregationError, match="lacks"):
        Sum("Amount").lift({"Amount": None})  # NULL counts as absent
    with pytest.raises(AggregationError, match="lacks"):
        Average("Score").lift({})


def test_default_and_optional_say_what_an_absent_attribute_means() -> None:
    assert Sum("Amount", default=0).lift({}) == 0
    assert Sum("Amount", optional=True).lift({}) is None
    assert Average("Score", default=Decimal(5)).lift({}) == (Decimal(5), Decimal(1))
    assert Average("Score", optional=True).lift({}) is None
    assert Count("Paid").lift({}) is None  # Count(attribute) counts the items that have it
    assert Count().lift({}) == 1


def test_a_value_of_the_wrong_type_is_an_error_naming_the_attribute() -> None:
    for value in ("12", True, 1.5, [1]):
        with pytest.raises(AggregationError, match="needs a number") as info:
            Sum("Amount").lift({"Amount": value})
        assert info.value.path == ("Amount",)


def test_repr_is_the_constructor() -> None:
    assert repr(Sum("Amount")) == "Sum('Amount')"
    assert (
        repr(Sum("Amount", default=0, optional=True)) == "Sum('Amount', default=0, optional=True)"
    )
    assert repr(Count()) == "Count()"
    assert repr(Count("Paid")) == "Count('Paid')"
    assert repr(Average("x", optional=True)) == "Average('x', optional=True)"
    assert Sum("a") == Sum("a")
    assert hash(Sum("a")) == hash(Sum("a"))


def test_builtins_declare_their_capabilities_through_protocols() -> None:
    for measure in (Sum("a"), Count(), Average("a")):
        assert isinstance(measure, Measure)
        assert isinstance(measure, Additive)
        assert not isinstance(measure, Sequenced)
        assert measure.algebra == "group"
