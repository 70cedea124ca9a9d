"""ddbstream.aggregate._groups: what a group key is, the same for every sink."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ddbstream import AggregationError, StreamEvent
from ddbstream.aggregate import AggregateSpec, Sum
from ddbstream.aggregate._groups import check_group
from ddbstream.testing import EventBuilder

B = EventBuilder("T", keys=("TransactionId",))


@pytest.mark.parametrize(
    ("group", "problem"),
    [
        ("", "empty string"),
        (b"", "empty bytes"),
        (1.5, "float"),
        (True, "bool"),
        (Decimal("1E+200"), "cannot store"),
        ((), "empty tuple"),
        (("a", ""), "tuple holding an empty string"),
        ("x" * 2049, "2048 bytes"),
        ({"a": 1}, "dict"),
    ],
)
def test_a_group_must_be_a_valid_key_for_every_sink(group: Any, problem: str) -> None:
    assert problem in (check_group(group) or "")
    record = B.insert({"TransactionId": "1", "Amount": 1})
    with pytest.raises(AggregationError, match="group_by returned"):
        AggregateSpec(lambda _: group, {"T": Sum("Amount")}).deltas(
            StreamEvent.from_lambda({"Records": [record]}).records
        )


def test_valid_groups() -> None:
    for group in ("a", 1, Decimal("1.5"), b"x", ("a", 1)):
        assert check_group(group) is None
