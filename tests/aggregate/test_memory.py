"""ddbstream.aggregate._memory: atomic transactions, watermark conditions, DynamoDB's limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ddbstream import UsageError
from ddbstream.aggregate import Aggregator, MemorySink, Sum
from ddbstream.aggregate._plan import Mark, Transaction
from ddbstream.aggregate._sink import GroupRejected

SPEC = Aggregator(group_by=lambda i: i["g"], measures={"T": Sum("n")})
ITEM = ("T", (("pk", "a"),))


def _tx(groups: dict[str, Decimal], marks: tuple[Mark, ...] = ()) -> Transaction:
    return Transaction(
        groups=tuple((g, {"T": v}) for g, v in groups.items()), marks=marks, token="t"
    )


def test_a_refused_group_leaves_the_whole_transaction_unapplied() -> None:
    sink = MemorySink()
    sink.commit(SPEC, _tx({"A": Decimal("9" * 38)}))
    with pytest.raises(GroupRejected) as info:
        sink.commit(SPEC, _tx({"A": Decimal("0.5"), "B": Decimal(5)}, (Mark(ITEM, 1, 1),)))
    assert info.value.groups == {"A"}
    assert sink.snapshot(SPEC) == {"A": {"T": Decimal("9" * 38)}}
    assert sink.watermarks == {}


def test_watermark_conditions_block_without_writing() -> None:
    sink = MemorySink()
    assert sink.commit(SPEC, _tx({"A": Decimal(1)}, (Mark(ITEM, 5, 9),))) == {}
    assert sink.commit(SPEC, _tx({"A": Decimal(1)}, (Mark(ITEM, 9, 12),))) == {ITEM: 9}
    assert sink.commit(SPEC, _tx({"A": Decimal(1)}, (Mark(ITEM, 10, 12),))) == {}
    assert sink.snapshot(SPEC) == {"A": {"T": Decimal(2)}}
    assert sink.commits == 2


def test_limits_and_repr() -> None:
    with pytest.raises(UsageError, match="max_actions"):
        MemorySink(max_actions=2)
    assert repr(MemorySink()) == "MemorySink(exactly_once=True)"
    assert repr(MemorySink(inline_marks=True)) == "MemorySink(exactly_once=True, inline_marks=True)"
    sink = MemorySink()
    sink.commit(SPEC, _tx({"A": Decimal(1)}))
    sink.commit(SPEC, _tx({"A": Decimal(-1)}))
    assert sink.snapshot(SPEC) == {}  # a group back at zero is not a result
