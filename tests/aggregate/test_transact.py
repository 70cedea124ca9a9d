"""ddbstream.aggregate._transact on DynamoDB Local: watermarks in ledger items (Ledger),
written in one transaction with the groups' updates, with tokens that digest exactly one
transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ddbstream.aggregate import (
    DynamoDBSink,
    Ledger,
)

from ._ddb import B, invoice, totals
from ._faults import Faults


def test_the_ledger_strategy_writes_ledger_items_in_one_transaction(
    dynamodb_client: Any, tables: Any
) -> None:
    target, ledger = tables(), tables("pk")
    sink = DynamoDBSink(target, key="Group", ledger=Ledger(table=ledger), client=dynamodb_client)
    aggregator = totals(sink)
    records = [B.insert(invoice(str(i), Decimal("0.10"), "AB"[i % 2])) for i in range(40)]
    faults = Faults(dynamodb_client, None, 0)
    try:
        assert aggregator.apply(B.lambda_event(records)).ok
    finally:
        faults.close()
    assert faults.sent == ["TransactWriteItems"]  # 2 groups + 40 watermarks: one transaction
    marks = dynamodb_client.scan(TableName=ledger)["Items"]
    assert len(marks) == 40
    seqs = {m["seq"]["S"] for m in marks}
    assert all(len(s) == 40 and s.isdigit() for s in seqs)
    assert {int(s) for s in seqs} == {int(r["dynamodb"]["SequenceNumber"]) for r in records}
    assert all(int(m["expires"]["N"]) > 0 for m in marks)
    item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
    assert set(item) == {"Group", "Total"}


def test_ledger_items_in_the_sink_table_are_nottotals(dynamodb_client: Any, tables: Any) -> None:
    target = tables("PK", sort_key="SK")
    sink = DynamoDBSink(
        target,
        key=lambda user: {"PK": f"USER#{user}", "SK": "TOTAL"},
        ledger=Ledger(sort_key="SK"),
        client=dynamodb_client,
    )
    aggregator = totals(sink)
    event = B.lambda_event(B.insert(invoice("1", 3)), B.insert(invoice("2", 4)))
    assert aggregator.apply(event).ok
    assert aggregator.apply(event).ok  # the same transaction again: its token absorbs it
    items = dynamodb_client.scan(TableName=target)["Items"]
    assert sorted(i["PK"]["S"].split("#")[0] for i in items) == ["LEDGER", "LEDGER", "USER"]
    assert aggregator.snapshot() == {("USER#A", "TOTAL"): {"Total": Decimal(7)}}


def test_transactions_with_equal_deltas_of_different_records_both_land(
    dynamodb_client: Any, tables: Any
) -> None:
    aggregator = totals(
        DynamoDBSink(
            tables(), key="Group", ledger=Ledger(table=tables("pk")), client=dynamodb_client
        )
    )
    for tid in ("1", "2"):
        assert aggregator.apply(B.lambda_event(B.insert(invoice(tid, 5)))).ok
    assert aggregator.snapshot() == {"A": {"Total": Decimal(10)}}
