"""ddbstream.aggregate._inline on DynamoDB Local: the watermarks inside the group items
(GroupLedger): one conditional UpdateItem per touched group, DynamoDB's own limits, stale
watermarks deleted in later writes, and plain updates without watermarks (ledger=None)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ddbstream import UsageError
from ddbstream.aggregate import (
    DynamoDBSink,
    GroupLedger,
    Max,
    Sum,
)

from ._ddb import FAST, B, invoice, totals
from ._faults import Faults


def test_one_conditional_update_per_touched_group_and_the_watermarks_in_it(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    sink = DynamoDBSink(target, key="Group", updated_attribute="UpdateDate", client=dynamodb_client)
    aggregator = totals(sink)
    records = [B.insert(invoice(str(i), Decimal("0.10"), "AB"[i % 2])) for i in range(50)]
    faults = Faults(dynamodb_client, None, 0)
    try:
        result = aggregator.apply(B.lambda_event(records))
    finally:
        faults.close()
    assert result.ok
    assert result.writes == 2
    assert faults.sent == ["UpdateItem", "UpdateItem"]  # no transaction, no ledger item
    item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
    assert item["Total"] == {"N": "2.5"}
    assert item["UpdateDate"]["S"].endswith("Z")
    marks = [name for name in item if name.startswith("_w")]
    assert len(marks) == 25
    assert all(isinstance(item[name]["B"], bytes) for name in marks)
    assert {n for n in item if not n.startswith("_")} == {"Group", "Total", "UpdateDate"}


def test_dynamodb_accepts_100_watermark_conditions_in_a_write_and_refuses_101(
    dynamodb_client: Any, tables: Any
) -> None:
    # The limit GroupLedger(max_items) and the sink's write size rest on, checked against
    # DynamoDB Local rather than assumed: 3 operators per watermark condition, 300 in all.
    from ddbstream._marks import first_value, mark_value
    from ddbstream.aggregate._request import Update

    target = tables()

    def write(count: int) -> None:
        update = Update()
        for i in range(count):
            name = f"_w{i:016}"
            first = update.value({"B": first_value(1)})
            update.condition(f"NOT {update.name(name)} >= {first}", 2)
            update.set(name, {"B": mark_value(sequence=1, hour=1)})
        assert update.fits() == (count <= 100)
        dynamodb_client.update_item(**update.params(target, {"Group": {"S": f"g{count}"}}))

    write(100)
    with pytest.raises(dynamodb_client.exceptions.ClientError, match="too many operators"):
        write(101)
    with pytest.raises(UsageError, match="300 operators"):
        GroupLedger(max_items=101)


def test_a_write_carries_what_the_operator_limit_leaves_after_pruning_and_registers(
    dynamodb_client: Any, tables: Any
) -> None:
    records = [B.insert(invoice(f"{i:03}", 1)) for i in range(100)]
    sink = DynamoDBSink(tables(), key="Group", ledger=GroupLedger(), client=dynamodb_client)
    aggregator = totals(sink)
    assert sink.lanes_per_write(aggregator.spec) == 87  # (300 + 1 - 2 x 20 pruned) / 3
    result = aggregator.apply(B.lambda_event(records))
    assert result.ok
    assert result.writes == 2
    with_max = DynamoDBSink(tables(), key="Group", ledger=GroupLedger(), client=dynamodb_client)
    aggregator = totals(with_max, Total=Sum("Amount"), Top=Max("Amount"))
    assert with_max.lanes_per_write(aggregator.spec) == 86
    assert aggregator.apply(B.lambda_event(records)).ok
    assert aggregator.snapshot() == {"A": {"Total": Decimal(100), "Top": Decimal(1)}}
    few = DynamoDBSink(
        tables(), key="Group", ledger=GroupLedger(max_items=10), client=dynamodb_client
    )
    assert totals(few).apply(B.lambda_event(records)).writes == 10


def test_watermarks_older_than_a_day_go_in_later_writes_of_their_group(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    now = [dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc)]
    sink = DynamoDBSink(target, key="Group", client=dynamodb_client, clock=lambda: now[0])
    aggregator = totals(sink)
    assert aggregator.apply(B.lambda_event([B.insert(invoice(str(i), 1)) for i in range(5)])).ok

    def marks() -> set[str]:
        item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
        return {name for name in item if name.startswith("_w")}

    old = marks()
    assert len(old) == 5
    now[0] += dt.timedelta(hours=24)
    assert aggregator.apply(B.lambda_event(B.insert(invoice("10", 1)))).ok
    assert old < marks()  # a day old: they may still cover a redelivery
    now[0] += dt.timedelta(hours=2)
    assert aggregator.apply(B.lambda_event(B.insert(invoice("11", 1)))).ok
    assert not old & marks()
    assert len(marks()) == 2
    assert aggregator.snapshot() == {"A": {"Total": Decimal(7)}}


def test_a_stale_watermark_rewritten_meanwhile_is_not_deleted(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    now = [dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc)]
    sink = DynamoDBSink(
        target, key="Group", client=dynamodb_client, clock=lambda: now[0], retry=FAST
    )
    aggregator = totals(sink)
    first = B.insert(invoice("1", 1))
    assert aggregator.apply(B.lambda_event(first)).ok
    now[0] += dt.timedelta(hours=30)
    # another container applies a new record of the same item: its watermark is fresh again
    other = totals(DynamoDBSink(target, key="Group", client=dynamodb_client, clock=lambda: now[0]))
    newer = B.modify(invoice("1", 1), invoice("1", 4))
    assert other.apply(B.lambda_event(newer)).ok
    assert aggregator.apply(B.lambda_event(B.insert(invoice("2", 10)))).ok
    assert aggregator.apply(B.lambda_event(newer)).duplicates == 1  # its watermark is still there
    assert aggregator.snapshot() == {"A": {"Total": Decimal(14)}}


def test_at_least_once_counts_every_delivery_even_of_equal_deltas(
    dynamodb_client: Any, tables: Any
) -> None:
    # Two different batches with the same deltas must both count: no request token may take the
    # second for a retry of the first (the at-least-once mode used to lose increments so).
    aggregator = totals(DynamoDBSink(tables(), key="Group", ledger=None, client=dynamodb_client))
    for tid in ("1", "2", "1"):
        assert aggregator.handle(B.lambda_event(B.insert(invoice(tid, 5))), None) == {
            "batchItemFailures": []
        }
    assert aggregator.snapshot() == {"A": {"Total": Decimal(15)}}
