"""Invoice totals: the AWS tutorial's aggregation, exact.

Source table ``InvoiceTransactions`` (InvoiceNumber, TransactionId, Amount, InvoiceDate; stream
NEW_AND_OLD_IMAGES). Target table ``$INVOICE_TOTAL_TABLE`` (default ``InvoiceTotal``): one item
per invoice with ``Total`` = the exact sum of ``Amount`` over the invoice's current transactions,
and ``UpdateDate``. The exactly-once bookkeeping rides in the same items: a watermark per
transaction written in the last day, as ``_w...`` attributes (one conditional write per invoice
per batch). ``$INVOICE_LEDGER_TABLE`` (default ``InvoiceTotalLedger``, key ``pk``, TTL on
``expires``), which :func:`create_tables` also creates, is where ``Ledger(table=...)``, the
per-transaction ledger strategy, would keep them instead. ``$PARALLELIZATION_FACTOR`` (default 1)
is the event source mapping's ParallelizationFactor. boto3 finds DynamoDB through
``AWS_ENDPOINT_URL``.

Unlike the tutorial's handler (``ADD Total :amount`` for every record), a MODIFY adds only the
difference, a REMOVE subtracts, and a redelivered batch changes nothing.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ddbstream import BatchResponse
from ddbstream.aggregate import Aggregator, DynamoDBSink, Sum

SOURCE_TABLE = "InvoiceTransactions"

#: The event source mapping's FilterCriteria: records of invoice transactions only.
FILTER_CRITERIA: dict[str, Any] = {
    "Filters": [{"Pattern": '{"dynamodb":{"Keys":{"InvoiceNumber":{"S":[{"exists":true}]}}}}'}]
}


def total_table() -> str:
    return os.environ.get("INVOICE_TOTAL_TABLE", "InvoiceTotal")


def ledger_table() -> str:
    return os.environ.get("INVOICE_LEDGER_TABLE", "InvoiceTotalLedger")


def parallelization_factor() -> str:
    return os.environ.get("PARALLELIZATION_FACTOR", "1")


# --8<-- [start:aggregator]
@lru_cache(maxsize=8)
def _aggregator(total: str, factor: str, endpoint: str | None) -> Aggregator:
    return Aggregator(
        group_by="InvoiceNumber",
        measures={"Total": Sum("Amount")},
        sink=DynamoDBSink(total, key="InvoiceNumber", updated_attribute="UpdateDate"),
        parallelization_factor=int(factor),
        filter=FILTER_CRITERIA,
    )


def aggregator() -> Aggregator:
    """The aggregator for the current environment (table, ParallelizationFactor, endpoint)."""
    return _aggregator(total_table(), parallelization_factor(), os.environ.get("AWS_ENDPOINT_URL"))


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    """Lambda entry point: returns the partial batch response (ReportBatchItemFailures)."""
    return aggregator().handle(event, context)


# --8<-- [end:aggregator]


def _create(client: Any, name: str, keys: list[tuple[str, str]], **extra: Any) -> bool:
    if name in _table_names(client):
        return False
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, k in keys],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n, _ in keys],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    client.get_waiter("table_exists").wait(TableName=name)
    return True


def _table_names(client: Any) -> set[str]:
    names: set[str] = set()
    kwargs: dict[str, Any] = {}
    while True:
        page = client.list_tables(**kwargs)
        names.update(page["TableNames"])
        if "LastEvaluatedTableName" not in page:
            return names
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def create_tables(dynamodb_client: Any) -> None:
    """Create the source, total and ledger tables that do not exist yet (others are left alone)."""
    _create(
        dynamodb_client,
        SOURCE_TABLE,
        [("InvoiceNumber", "HASH"), ("TransactionId", "RANGE")],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    _create(dynamodb_client, total_table(), [("InvoiceNumber", "HASH")])
    if _create(dynamodb_client, ledger_table(), [("pk", "HASH")]):
        dynamodb_client.update_time_to_live(
            TableName=ledger_table(),
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
        )


def run_demo(dynamodb_client: Any, streams_client: Any) -> str:
    """Run the tutorial on fresh tables: the local runner reads the real stream and invokes
    :func:`handler` as Lambda's event source mapping would. Returns the printed tables."""
    import tempfile

    from ddbstream.runner import EventSourceMapping, Runner

    for name in (SOURCE_TABLE, total_table(), ledger_table()):
        if name in _table_names(dynamodb_client):
            dynamodb_client.delete_table(TableName=name)
            dynamodb_client.get_waiter("table_not_exists").wait(TableName=name)
    create_tables(dynamodb_client)
    mapping = EventSourceMapping(
        filter_criteria=FILTER_CRITERIA, function_response_types=("ReportBatchItemFailures",)
    )
    out: list[str] = []
    checkpoints = tempfile.TemporaryDirectory(prefix="ddbstream-demo-")

    def step(title: str, checkpoint: str) -> None:
        runner = Runner(
            handler,
            table_name=SOURCE_TABLE,
            mapping=mapping,
            dynamodb_client=dynamodb_client,
            streams_client=streams_client,
            checkpoint=checkpoint,
        )
        stats = runner.run(until_idle=True)
        out.append(
            f"-- {title}: the runner read {stats.records_read} stream records, "
            f"{stats.invocations} invocation(s), {stats.records_failed} failed"
        )
        out.append(_tables(dynamodb_client))

    def put(txn: str, amount: str) -> None:
        dynamodb_client.put_item(
            TableName=SOURCE_TABLE,
            Item={
                "InvoiceNumber": {"S": "ABC"},
                "TransactionId": {"S": txn},
                "Amount": {"N": amount},
                "InvoiceDate": {"S": "2024-06-10"},
            },
        )

    with checkpoints as folder:
        resume = f"{folder}/checkpoints.sqlite3"
        put("T1", "100")
        put("T2", "300")
        step("two transactions (100 + 300)", resume)
        put("T1", "150")
        step("T1 modified to 150", resume)
        key = {"InvoiceNumber": {"S": "ABC"}, "TransactionId": {"S": "T2"}}
        dynamodb_client.delete_item(TableName=SOURCE_TABLE, Key=key)
        step("T2 deleted", resume)
        step("the whole stream redelivered from TRIM_HORIZON (no checkpoint)", ":memory:")
    amounts = [
        Decimal(r["dynamodb"]["NewImage"]["Amount"]["N"])
        for r in _stream(streams_client)
        if "NewImage" in r["dynamodb"]
    ]
    out.append(
        f"(the tutorial's ADD-NewImage.Amount handler would show {sum(amounts)} after one "
        f"delivery and {2 * sum(amounts)} after this redelivery; the exact total is 150)"
    )
    return "\n".join(out)


def _stream(streams_client: Any) -> list[dict[str, Any]]:
    from ddbstream.testing import read_stream

    return read_stream(streams_client, table_name=SOURCE_TABLE)


def _tables(client: Any) -> str:
    rows = []
    for item in client.scan(TableName=total_table(), ConsistentRead=True)["Items"]:
        rows.append(
            f"  {item['InvoiceNumber']['S']:<13} | {item['Total']['N']:>6} | "
            f"{item.get('UpdateDate', {}).get('S', '')}"
        )
    header = f"  {'InvoiceNumber':<13} | {'Total':>6} | UpdateDate"
    return "\n".join([f"{total_table()}:", header, *sorted(rows)])
