"""Benchmark: the invoice tutorial's handler vs ddbstream's exact aggregator, on DynamoDB Local.

The same 10,000 changes to ``InvoiceTransactions`` (inserts, amount changes and deletes over 100
invoices) are read from the real stream and fed, in Lambda batches, to

* the tutorial's handler: one ``UpdateItem ADD Total :amount`` (``NewImage.Amount``) per record;
* ddbstream's default exact strategy: ``Aggregator`` + ``DynamoDBSink`` with a ledger table
  (coalesced ADD per invoice and per-transaction watermarks in TransactWriteItems), and
  ``GroupLedger``.

Each handler uses the client it has by default: the tutorial's ``boto3.client("dynamodb")``, the
sink's own client (which skips botocore's parameter validation); the tutorial also runs with
validation off, for comparison. It reports the DynamoDB requests (HTTP requests counted with a
botocore ``before-send`` hook), the wall time of the handlers, and whether each final table
equals the totals recomputed from the source table.
Run: ``python bench/aggregate.py [--changes 10000] [--batch-size 100] [--concurrency 1]``.
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
from ddbstream.testing import DynamoDBLocal, dynamodb_local_env, read_stream

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
    totals = {i["InvoiceNumber"]["S"]: Decimal(i["Total"]["N"]) for i in items}
    return {number: total for number, total in totals.items() if total}  # all deleted: absent


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


Handler = Callable[[dict[str, Any]], None]


def tutorial(table: str, *, validation: bool = True) -> tuple[Handler, Any]:
    import boto3
    from botocore.config import Config

    client = boto3.client("dynamodb", config=Config(parameter_validation=validation))
    return tutorial_handler(client, table), client


def ddbstream_handler(
    table: str, ledger: Ledger | GroupLedger, *, concurrency: int = 1
) -> tuple[Handler, Any]:
    sink = DynamoDBSink(
        table,
        key="InvoiceNumber",
        updated_attribute="UpdateDate",
        ledger=ledger,
        concurrency=concurrency,
    )
    aggregator = Aggregator(
        group_by=lambda t: t["InvoiceNumber"], measures={"Total": Sum("Amount")}, sink=sink
    )

    def handler(event: dict[str, Any]) -> None:
        response = aggregator.handle(event, None)
        assert response == {"batchItemFailures": []}, response

    return handler, sink.client


def measure(
    records: list[dict[str, Any]],
    batch_size: int,
    make: Callable[[str], tuple[Handler, Any]],
    table: str,
) -> tuple[int, float]:
    count = [0]

    def on_send(**_: Any) -> None:
        count[0] += 1

    handler, client = make(table)
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
    parser.add_argument("--concurrency", type=int, default=1, help="DynamoDBSink(concurrency=)")
    parser.add_argument("--warmup", type=int, default=2000, help="records per warm-up run")
    args = parser.parse_args()
    with dynamodb_local() as local:
        # The handlers create their clients as in Lambda: from the environment.
        os.environ.update(dynamodb_local_env(local.endpoint_url))
        client = local.client()
        create(
            client,
            SOURCE,
            [("InvoiceNumber", "HASH"), ("TransactionId", "RANGE")],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        write_changes(client, args.changes, args.invoices)
        records = read_stream(local.streams_client(), table_name=SOURCE)
        expected = expected_totals(client)
        conc = args.concurrency
        runs: dict[str, Callable[[str], tuple[Handler, Any]]] = {
            "tutorial (UpdateItem per record)": tutorial,
            "tutorial, no param validation": lambda t: tutorial(t, validation=False),
            "ddbstream exact, Ledger (default)": lambda t: ddbstream_handler(
                t, Ledger(table=t + "Ledger"), concurrency=conc
            ),
            "ddbstream exact, GroupLedger": lambda t: ddbstream_handler(
                t, GroupLedger(), concurrency=conc
            ),
        }
        for number in range(len(runs)):
            for name in (f"BenchTotal{number}", f"BenchWarmup{number}"):
                create(client, name, [("InvoiceNumber", "HASH")])
                create(client, name + "Ledger", [("pk", "HASH")])
        # DynamoDB Local is a JVM: warm every handler's code paths up (JIT) before measuring,
        # or the first handler to use TransactWriteItems pays for compiling it.
        for number, make in enumerate(runs.values()):
            measure(records[: args.warmup], args.batch_size, make, f"BenchWarmup{number}")
        print(
            f"{len(records)} stream records over {args.invoices} invoices, "
            f"Lambda batches of {args.batch_size}, concurrency {conc}"
        )
        results = {}
        for number, (label, make) in enumerate(runs.items()):
            table = f"BenchTotal{number}"
            requests, seconds = measure(records, args.batch_size, make, table)
            exact = table_totals(client, table) == expected
            results[label] = (requests, seconds)
            print(f"{label:36} requests={requests:6}  wall={seconds:7.2f} s  exact={exact}")
        (r1, t1), *others = results.values()
        for label, (r2, t2) in zip(list(results)[1:], others, strict=True):
            print(f"{label}: {r1 / r2:.1f}x fewer requests, {t1 / t2:.1f}x less wall time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
