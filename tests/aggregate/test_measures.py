"""ddbstream.aggregate._measures: the algebra each built-in measure claims, exact arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import AggregationError
from ddbstream.aggregate import Average, Count, Latest, Max, Measure, Min, Sum
from ddbstream.aggregate._measures import exact

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


@given(values=st.lists(numbers, min_size=1))
def test_min_and_max_are_order_independent(values: list[Decimal]) -> None:
    for measure, expected in ((Min("x"), min(values)), (Max("x"), max(values))):
        state = measure.zero()
        for v in reversed(values):
            state = measure.combine(state, measure.lift({"x": v}))
        assert measure.result(state) == expected


def test_latest_keeps_the_last_writer_by_sequence_or_by_attribute() -> None:
    by_seq = Latest("Status")
    a, b = by_seq.lift_at({"Status": "open"}, 5), by_seq.lift_at({"Status": "paid"}, 9)
    assert by_seq.result(by_seq.combine(a, b)) == by_seq.result(by_seq.combine(b, a)) == "paid"
    by_time = Latest("Status", by="At")
    late = by_time.lift_at({"Status": "old", "At": "2024-12"}, 1)
    early = by_time.lift_at({"Status": "new", "At": "2024-01"}, 2)
    assert by_time.result(by_time.combine(early, late)) == "old"
    assert by_time.load(by_time.dump(late)) == late


def test_numbers_are_exact_and_never_rounded() -> None:
    big = Decimal("9" * 38)
    assert Sum("x").combine(big, Decimal(1)) == Decimal("1E+38")  # 1 significant digit
    with pytest.raises(AggregationError, match="38 significant digits"):
        Sum("x").combine(big, Decimal("0.5"))
    with pytest.raises(AggregationError, match="38 significant digits"):
        Sum("x").combine(Decimal("9.99E+125"), Decimal("1E+125"))
    with pytest.raises(AggregationError):
        Sum("x").combine(Decimal("1E+125"), Decimal("1E-10"))
    assert exact(lambda: Decimal("0.1") + Decimal("0.2"), "x") == Decimal("0.3")


def test_non_numbers_are_errors_naming_the_attribute() -> None:
    with pytest.raises(AggregationError) as info:
        Sum("Amount").lift({"Amount": "12"})
    assert info.value.path == ("Amount",)
    assert Sum("Amount").lift({}) is None
    assert Count("Amount").lift({}) is None
    assert Count().lift({}) == 1


def test_repr_is_the_constructor() -> None:
    assert repr(Sum("Amount")) == "Sum('Amount')"
    assert repr(Count()) == "Count()"
    assert repr(Latest("S", by="At")) == "Latest('S', by='At')"
    assert repr(Max("x")) == "Max('x')"
    assert repr(Min("x")) == "Min('x')"
    assert Sum("a") == Sum("a")
    assert hash(Sum("a")) == hash(Sum("a"))


def test_builtins_satisfy_the_measure_protocol() -> None:
    for measure in (Sum("a"), Count(), Average("a"), Min("a"), Max("a"), Latest("a")):
        assert isinstance(measure, Measure)
