"""ddbstream.aggregate._memory: atomic writes, watermark conditions per (source item, group),
DynamoDB's number limits, fault hooks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ddbstream import TransientError, UsageError
from ddbstream._marks import Mark
from ddbstream._settle import APPLIED, Rejected, Retried, Stale, Write
from ddbstream.aggregate import AggregateSpec, MemorySink, Sum

SPEC: AggregateSpec[Any] = AggregateSpec("g", {"T": Sum("n")})


def _write(group: str, value: Decimal, *marks: Mark) -> Write[Any]:
    return Write(group, marks, {"T": value}, token=f"{group}{value}{marks}")


def test_a_refused_value_leaves_the_write_unapplied() -> None:
    sink = MemorySink()
    assert sink.commit(SPEC, [_write("A", Decimal("9" * 38))]) == [APPLIED]
    (outcome,) = sink.commit(SPEC, [_write("A", Decimal("0.5"), Mark("x", 1, 1))])
    assert isinstance(outcome, Rejected)
    assert "39 significant digits" in str(outcome.error)
    assert sink.snapshot(SPEC) == {"A": {"T": Decimal("9" * 38)}}
    assert ("A", "x") not in sink.watermarks


def test_watermarks_are_per_lane_and_group_and_block_without_writing() -> None:
    sink = MemorySink()
    sink.commit(SPEC, [_write("A", Decimal(5), Mark("x", 1, 3))])
    assert sink.commit(SPEC, [_write("A", Decimal(5), Mark("x", 2, 4))]) == [Stale({"x": 3})]
    assert sink.commit(SPEC, [_write("B", Decimal(1), Mark("x", 2, 4))]) == [APPLIED]
    assert sink.commit(SPEC, [_write("A", Decimal(2), Mark("x", 4, 4))]) == [APPLIED]
    assert sink.snapshot(SPEC) == {"A": {"T": Decimal(7)}, "B": {"T": Decimal(1)}}
    assert sink.watermarks == {("A", "x"): 4, ("B", "x"): 4}


def test_at_least_once_keeps_no_watermark() -> None:
    sink = MemorySink(exactly_once=False)
    for _ in range(2):
        assert sink.commit(SPEC, [_write("A", Decimal(5), Mark("x", 1, 1))]) == [APPLIED]
    assert sink.snapshot(SPEC) == {"A": {"T": Decimal(10)}}
    assert not sink.watermarks


def test_fault_hooks_see_each_write_before_and_after() -> None:
    seen: list[tuple[Any, str]] = []

    def fault(write: Any, phase: str) -> None:
        seen.append((write.target, phase))
        if phase == "after":
            raise TransientError("answer lost")

    sink = MemorySink(fault=fault)
    (outcome,) = sink.commit(SPEC, [_write("A", Decimal(5))])
    assert isinstance(outcome, Retried)
    assert seen == [("A", "before"), ("A", "after")]
    assert sink.snapshot(SPEC) == {"A": {"T": Decimal(5)}}  # it landed


def test_limits_repr_and_deprecated_arguments() -> None:
    with pytest.raises(UsageError, match="max_lanes"):
        MemorySink(max_lanes=0)
    with pytest.raises(UsageError, match="concurrency"):
        MemorySink(concurrency=0)
    assert repr(MemorySink()) == "MemorySink()"
    assert repr(MemorySink(exactly_once=False, max_lanes=3, concurrency=2)) == (
        "MemorySink(exactly_once=False, max_lanes=3, concurrency=2)"
    )
    with pytest.warns(DeprecationWarning, match="inline_marks"):
        MemorySink(inline_marks=True)
    with pytest.warns(DeprecationWarning, match="max_actions"):
        assert MemorySink(max_actions=4).lanes_per_write(SPEC) == 4
    assert MemorySink().name is None
