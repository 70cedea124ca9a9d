"""ddbstream.aggregate._ledger: watermark keys and attributes are stable, bounded and distinct."""

from __future__ import annotations

from ddbstream.aggregate import GroupLedger, Ledger

ITEM = ("Orders", (("pk", '{"S":"a"}'),))
OTHER = ("Orders", (("pk", '{"S":"b"}'),))


def test_ledger_keys_are_hashed_per_namespace_and_item() -> None:
    ledger = Ledger(table="L")
    key = ledger.key(ITEM, namespace="Totals", partition_key="pk")
    assert key == ledger.key(ITEM, namespace="Totals", partition_key="pk")
    assert key["pk"]["S"].startswith("LEDGER#")
    assert len(key["pk"]["S"]) == len("LEDGER#") + 64
    assert key != ledger.key(OTHER, namespace="Totals", partition_key="pk")
    assert key != ledger.key(ITEM, namespace="Other", partition_key="pk")
    with_sort = Ledger(sort_key="SK").key(ITEM, namespace="T", partition_key="PK")
    assert with_sort["SK"] == {"S": "WATERMARK"}


def test_group_ledger_attributes() -> None:
    ledger = GroupLedger()
    assert ledger.attribute(ITEM).startswith("wm_")
    assert ledger.attribute(ITEM) != ledger.attribute(OTHER)


def test_repr_is_the_constructor() -> None:
    assert repr(Ledger()) == "Ledger()"
    assert repr(Ledger(table="L", sort_key="SK")) == "Ledger(table='L', sort_key='SK')"
    assert repr(GroupLedger(max_items=5)) == "GroupLedger(max_items=5)"
