"""ddbstream.aggregate._monoids: Min and Max (append-only monoids) and Latest (a register)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import AggregationError
from ddbstream.aggregate import Additive, Latest, Max, Measure, Min, Sequenced

numbers = st.decimals(min_value=-(10**20), max_value=10**20, places=4, allow_nan=False)


@given(values=st.lists(numbers, min_size=1))
def test_min_and_max_are_order_independent(values: list[Decimal]) -> None:
    for measure, expected in ((Min("x"), min(values)), (Max("x"), max(values))):
        state = measure.zero()
        for v in reversed(values):
            state = measure.combine(state, measure.lift({"x": v}))
        assert measure.result(state) == expected
        assert measure.load(measure.dump(state)) == state


def test_min_and_max_have_no_inverse_and_read_attributes_loudly() -> None:
    with pytest.raises(AggregationError, match="append-only"):
        Max("x").inverse(Decimal(1))
    with pytest.raises(AggregationError, match="lacks"):
        Max("x").lift({})
    assert Min("x", optional=True).lift({}) is None


def test_latest_keeps_the_last_writer_by_sequence_or_by_attribute() -> None:
    by_seq = Latest("Status")
    a, b = by_seq.lift_at({"Status": "open"}, 5), by_seq.lift_at({"Status": "paid"}, 9)
    assert by_seq.result(by_seq.combine(a, b)) == by_seq.result(by_seq.combine(b, a)) == "paid"
    by_time = Latest("Status", by="At")
    late = by_time.lift_at({"Status": "old", "At": "2024-12"}, 1)
    early = by_time.lift_at({"Status": "new", "At": "2024-01"}, 2)
    assert by_time.result(by_time.combine(early, late)) == "old"
    assert by_time.load(by_time.dump(late)) == late


def test_latest_needs_its_sequence_and_comparable_orders() -> None:
    with pytest.raises(AggregationError, match="lift_at"):
        Latest("x").lift({"x": 1})
    by = Latest("x", by="At")
    with pytest.raises(AggregationError, match="cannot order"):
        by.combine(by.lift_at({"x": 1, "At": "a"}, 1), by.lift_at({"x": 2, "At": 3}, 2))
    assert Latest("x", optional=True).lift_at({}, 1) is None
    assert Latest("x", default="none").lift_at({}, 1) == (1, 1, "none")


def test_repr_and_capabilities() -> None:
    assert repr(Latest("S", by="At")) == "Latest('S', by='At')"
    assert repr(Max("x")) == "Max('x')"
    assert repr(Min("x", default=0)) == "Min('x', default=0)"
    assert [m.algebra for m in (Min("x"), Max("x"), Latest("x"))] == [
        "monoid",
        "monoid",
        "register",
    ]
    for measure in (Min("a"), Max("a"), Latest("a")):
        assert isinstance(measure, Measure)
        assert not isinstance(measure, Additive)
    assert isinstance(Latest("a"), Sequenced)
