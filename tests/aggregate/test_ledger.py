"""ddbstream.aggregate._ledger: the strategies are values; their limits are DynamoDB's."""

from __future__ import annotations

import pytest

from ddbstream import UsageError
from ddbstream.aggregate import GroupLedger, Ledger


def test_ledger_keys_are_hashed_per_lane_target_and_namespace() -> None:
    ledger = Ledger(table="L")
    key = ledger.key_value("lane", "target")
    assert key == ledger.key_value("lane", "target")
    assert key.startswith("LEDGER#")
    assert len(key) == len("LEDGER#") + 64
    assert key != ledger.key_value("other", "target")
    assert key != ledger.key_value("lane", "other")
    assert key != Ledger(table="L", namespace="n").key_value("lane", "target")


def test_group_ledger_items_per_write_stay_within_dynamodbs_operator_limit() -> None:
    assert GroupLedger().max_items == 100
    assert GroupLedger(max_items=10).max_items == 10
    for bad in (0, 101, 200):
        with pytest.raises(UsageError, match="300 operators"):
            GroupLedger(max_items=bad)
    with pytest.warns(DeprecationWarning, match="prefix"):
        GroupLedger(prefix="wm_")


def test_repr_is_the_constructor() -> None:
    assert repr(Ledger()) == "Ledger()"
    assert repr(Ledger(table="L", sort_key="SK")) == "Ledger(table='L', sort_key='SK')"
    assert repr(GroupLedger()) == "GroupLedger()"
    assert repr(GroupLedger(max_items=5)) == "GroupLedger(max_items=5)"
