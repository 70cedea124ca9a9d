"""Benchmark: the invoice tutorial's handler vs ddbstream's exact aggregator, on DynamoDB Local.

The same 10,000 changes to ``InvoiceTransactions`` (inserts, amount changes and deletes over 100
invoices) are read from the real stream and fed, in Lambda batches, to

* the tutorial's handler: one ``UpdateItem ADD Total :amount`` (``NewImage.Amount``) per record;
* ddbstream's default exact strategy: ``Aggregator`` + ``DynamoDBSink`` with a ledger table
  (coalesced ADD per invoice and per-transaction watermarks in TransactWriteItems).

It reports the DynamoDB requests (HTTP requests counted with a botocore ``before-send`` hook),
the wall time of the handlers, and whether each final table equals the totals recomputed from
the source table. Run: ``python bench/aggregate.py [--changes 10000] [--batch-size 100]``.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from ddbstream.aggregate import Aggregator, DynamoDBSink, GroupLedger, Ledger, Sum
from ddbstream.testing import DynamoDBLocal, read_stream

SOURCE = "BenchInvoiceTransactions"


@contextmanager
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    endpoint = os.environ.get("DDBSTREAM_DYNAMODB_ENDPOINT")
    if endpoint:
        yield DynamoDBLocal.connect(endpoint)
        return
    with DynamoDBLocal() as local:
        yield local


def create(client: Any, name: str, keys: list[tuple[str, str]], **extra: Any) -> None:
    if name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
        client.get_waiter("table_not_exists").wait(TableName=name)
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, k in keys],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n, _ in keys],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    client.get_waiter("table_exists").wait(TableName=name)


def write_changes(client: Any, changes: int, invoices: int, seed: int = 7) -> None:
    """Write ``changes`` changes: ~70% new transactions, ~20% amount changes, ~10% deletes."""
    rng = random.Random(seed)
    live: list[tuple[str, str]] = []
    pending: list[dict[str, Any]] = []
    touched: set[tuple[str, str]] = set()
    serial = 0

    def flush() -> None:
        if pending:
            client.batch_write_item(RequestItems={SOURCE: list(pending)})
            pending.clear()
            touched.clear()

    for _ in range(changes):
        roll = rng.random()
        if live and roll < 0.1:
            key = live.pop(rng.randrange(len(live)))
            request: dict[str, Any] = {
                "DeleteRequest": {
                    "Key": {"InvoiceNumber": {"S": key[0]}, "TransactionId": {"S": key[1]}}
                }
            }
        else:
            if live and roll < 0.3:
                key = live[rng.randrange(len(live))]
            else:
                serial += 1
                key = (f"INV{rng.randrange(invoices):04}", f"T{serial:06}")
                live.append(key)
            amount = Decimal(rng.randrange(1, 100_000)).scaleb(-2)
            request = {
                "PutRequest": {
                    "Item": {
                        "InvoiceNumber": {"S": key[0]},
                        "TransactionId": {"S": key[1]},
                        "Amount": {"N": str(amount)},
                        "InvoiceDate": {"S": "2024-06-10"},
                    }
                }
            }
        if key in touched or len(pending) == 25:
            flush()
        touched.add(key)
        pending.append(request)
    flush()


def expected_totals(client: Any) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    kwargs: dict[str, Any] = {"TableName": SOURCE, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            number = item["InvoiceNumber"]["S"]
            totals[number] = totals.get(number, Decimal(0)) + Decimal(item["Amount"]["N"])
        if "LastEvaluatedKey" not in page:
            return totals
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def table_totals(client: Any, table: str) -> dict[str, Decimal]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["InvoiceNumber"]["S"]: Decimal(i["Total"]["N"]) for i in items}


def tutorial_handler(client: Any, table: str) -> Callable[[dict[str, Any]], None]:
    """The tutorial's handler: ADD NewImage.Amount to the invoice's Total for every record."""

    def handler(event: dict[str, Any]) -> None:
        for record in event["Records"]:
            image = record["dynamodb"].get("NewImage")
            if image is None:
                continue  # the tutorial's code reads NewImage only; REMOVE records have none
            client.update_item(
                TableName=table,
                Key={"InvoiceNumber": image["InvoiceNumber"]},
                UpdateExpression="ADD #t :amount SET #d = :date",
                ExpressionAttributeNames={"#t": "Total", "#d": "UpdateDate"},
                ExpressionAttributeValues={
                    ":amount": image["Amount"],
                    ":date": {"S": time.strftime("%Y-%m-%dT%H:%M:%SZ")},
                },
            )

    return handler


def ddbstream_handler(
    client: Any, table: str, ledger: Ledger | GroupLedger
) -> Callable[[dict[str, Any]], None]:
    aggregator = Aggregator(
        group_by=lambda t: t["InvoiceNumber"],
        measures={"Total": Sum("Amount")},
        sink=DynamoDBSink(
            table,
            key="InvoiceNumber",
            updated_attribute="UpdateDate",
            ledger=ledger,
            client=client,
        ),
    )

    def handler(event: dict[str, Any]) -> None:
        response = aggregator.handle(event, None)
        assert response == {"batchItemFailures": []}, response

    return handler


def measure(
    local: DynamoDBLocal, records: list[dict[str, Any]], batch_size: int, make: Callable[..., Any]
) -> tuple[int, float]:
    client = local.client()
    count = [0]

    def on_send(**_: Any) -> None:
        count[0] += 1

    handler = make(client)
    client.meta.events.register("before-send.dynamodb", on_send)
    started = time.perf_counter()
    for start in range(0, len(records), batch_size):
        handler({"Records": records[start : start + batch_size]})
    elapsed = time.perf_counter() - started
    client.meta.events.unregister("before-send.dynamodb", on_send)
    return count[0], elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    with dynamodb_local() as local:
        client = local.client()
        create(
            client,
            SOURCE,
            [("InvoiceNumber", "HASH"), ("TransactionId", "RANGE")],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for name in ("BenchTutorialTotal", "BenchExactTotal", "BenchGroupLedgerTotal"):
            create(client, name, [("InvoiceNumber", "HASH")])
        create(client, "BenchExactLedger", [("pk", "HASH")])
        write_changes(client, args.changes, args.invoices)
        records = read_stream(local.streams_client(), table_name=SOURCE)
        expected = expected_totals(client)
        runs = {
            "tutorial (UpdateItem per record)": (
                lambda c: tutorial_handler(c, "BenchTutorialTotal"),
                "BenchTutorialTotal",
            ),
            "ddbstream exact, Ledger (default)": (
                lambda c: ddbstream_handler(c, "BenchExactTotal", Ledger(table="BenchExactLedger")),
                "BenchExactTotal",
            ),
            "ddbstream exact, GroupLedger": (
                lambda c: ddbstream_handler(c, "BenchGroupLedgerTotal", GroupLedger()),
                "BenchGroupLedgerTotal",
            ),
        }
        print(
            f"{len(records)} stream records over {args.invoices} invoices, "
            f"Lambda batches of {args.batch_size}"
        )
        results = {}
        for label, (make, table) in runs.items():
            requests, seconds = measure(local, records, args.batch_size, make)
            exact = table_totals(client, table) == expected
            results[label] = (requests, seconds)
            print(f"{label:34} requests={requests:6}  wall={seconds:7.2f} s  exact={exact}")
        (r1, t1), *others = results.values()
        for label, (r2, t2) in zip(list(results)[1:], others, strict=True):
            print(f"{label}: {r1 / r2:.1f}x fewer requests, {t1 / t2:.1f}x less wall time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
