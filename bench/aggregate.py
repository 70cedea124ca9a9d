"""Benchmark: wall time of aggregation handlers on DynamoDB Local, and hot-group throughput.

**Handlers** (default): the same invoice changes (``_workloads``: 10,000 changes over 100
invoices) read from the real stream and fed, in Lambda batches, to the tutorial's handler (one
``UpdateItem ADD`` per record, with and without botocore's parameter validation) and to
ddbstream's aggregator with ``GroupLedger()`` (the default) and ``Ledger(table=...)``. Every
handler first runs over 2,000 records into scratch tables so DynamoDB Local's JVM has compiled
its code paths. Reported: DynamoDB requests, wall time, and whether the totals are exact.

**Hot group** (``--hot``): 2, 4 and 8 concurrent writers (threads, each an invocation with its own
client and aggregator, as Lambda runs one per shard) apply disjoint transactions of ONE invoice
in batches, each batch delivered twice (a redelivery). Reported: records per second, writes that
had to be retried (a stored value or a transaction conflict), and whether the total is exact
(nothing lost, nothing doubled).

Run: ``python bench/aggregate.py [--changes 10000] [--batch-size 100] [--concurrency 1]`` or
``python bench/aggregate.py --hot [--writers 2 4 8] [--records 400]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workloads import (
    INVOICE,
    Handler,
    create,
    drop,
    dynamodb_local,
    expected_totals,
    table_totals,
    tutorial_handler,
    write_changes,
)

from ddbstream.aggregate import Aggregator, DynamoDBSink, GroupLedger, Ledger, Max, Retry, Sum
from ddbstream.testing import EventBuilder, dynamodb_local_env


def tutorial(table: str, *, validation: bool = True) -> tuple[Handler, Any]:
    import boto3
    from botocore.config import Config

    client = boto3.client("dynamodb", config=Config(parameter_validation=validation))
    return tutorial_handler(client, INVOICE, table), client


def ddbstream_handler(table: str, ledger: Any, *, concurrency: int = 1) -> tuple[Handler, Any]:
    sink = DynamoDBSink(
        table,
        key="InvoiceNumber",
        updated_attribute="UpdateDate",
        ledger=ledger,
        concurrency=concurrency,
    )
    aggregator = Aggregator("InvoiceNumber", {"Total": Sum("Amount")}, sink=sink)

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


def handlers(args: argparse.Namespace, admin: Any) -> None:
    records = write_changes(admin, INVOICE, changes=args.changes, groups=args.invoices)
    expected = expected_totals(admin, INVOICE)
    conc = args.concurrency
    runs: dict[str, Callable[[str], tuple[Handler, Any]]] = {
        "tutorial (UpdateItem per record)": tutorial,
        "tutorial, no param validation": lambda t: tutorial(t, validation=False),
        "ddbstream, GroupLedger (default)": lambda t: ddbstream_handler(
            t, GroupLedger(), concurrency=conc
        ),
        "ddbstream, Ledger": lambda t: ddbstream_handler(
            t, Ledger(table=t + "Ledger"), concurrency=conc
        ),
    }
    for number in range(len(runs)):
        for name in (f"BenchTotal{number}", f"BenchWarmup{number}"):
            create(admin, name, INVOICE.target_keys)
            create(admin, name + "Ledger", [("pk", "HASH")])
    for number, make in enumerate(runs.values()):
        measure(records[: args.warmup], args.batch_size, make, f"BenchWarmup{number}")
    print(
        f"{len(records)} stream records over {args.invoices} invoices, Lambda batches of "
        f"{args.batch_size}, concurrency {conc}"
    )
    for number, (label, make) in enumerate(runs.items()):
        table = f"BenchTotal{number}"
        requests, seconds = measure(records, args.batch_size, make, table)
        exact = table_totals(admin, INVOICE, table) == expected
        print(f"{label:34} requests={requests:6}  wall={seconds:7.2f} s  exact={exact}", flush=True)


class _Errors:
    """Requests DynamoDB answered with an error (a failed condition, a conflict): retried."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Error" in parsed:
            with self.lock:
                self.count += 1


def _hot_writer(
    n: int, table: str, ledger: Any, measures: dict[str, Any], errors: _Errors, args: Any
) -> None:
    """One invocation's lifetime: its own client and aggregator, batches delivered twice."""
    builder = EventBuilder(f"Shard{n}", keys=("InvoiceNumber", "TransactionId"))
    retry = Retry(attempts=50, base=0.01, cap=0.5)
    sink = DynamoDBSink(table, key="InvoiceNumber", ledger=ledger, retry=retry)
    aggregator = Aggregator("InvoiceNumber", measures, sink=sink)
    sink.client.meta.events.register("after-call.dynamodb", errors)
    rows = [
        {"InvoiceNumber": "HOT", "TransactionId": f"{n}-{i}", "Amount": i + 1}
        for i in range(args.records)
    ]
    records = [builder.insert(r) for r in rows]
    for start in range(0, len(records), args.hot_batch):
        event = builder.lambda_event(records[start : start + args.hot_batch])
        for _ in range(2):
            assert aggregator.handle(event, None) == {"batchItemFailures": []}


def hot(args: argparse.Namespace, admin: Any) -> None:
    print(
        f"one invoice, {args.records} transactions per writer, batches of {args.hot_batch}, "
        "each batch delivered twice"
    )
    with_max = {"Total": Sum("Amount"), "Top": Max("Amount")}
    cases = (
        ("GroupLedger, Sum", False, {"Total": Sum("Amount")}),
        ("GroupLedger, Sum + Max", False, with_max),
        ("Ledger, Sum", True, {"Total": Sum("Amount")}),
    )
    for case, (label, ledger_table, measures) in enumerate(cases):
        for writers in args.writers:
            # A table per case: one process may not give a stored attribute two definitions.
            table = f"BenchHot{case}x{writers}"
            create(admin, table, INVOICE.target_keys)
            create(admin, table + "Ledger", [("pk", "HASH")])
            ledger = Ledger(table=table + "Ledger") if ledger_table else GroupLedger()
            errors = _Errors()
            threads = [
                threading.Thread(
                    target=_hot_writer, args=(n, table, ledger, measures, errors, args)
                )
                for n in range(writers)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            total = table_totals(admin, INVOICE, table).get("HOT")
            exact = total == Decimal(writers * args.records * (args.records + 1) // 2)
            records = writers * args.records
            print(
                f"{label:24} writers={writers}  {records / elapsed:7.0f} records/s  "
                f"retried writes={errors.count:5}  exact={exact}",
                flush=True,
            )
            drop(admin, table, table + "Ledger")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1, help="DynamoDBSink(concurrency=)")
    parser.add_argument("--warmup", type=int, default=2000, help="records per warm-up run")
    parser.add_argument("--hot", action="store_true", help="measure one hot group instead")
    parser.add_argument("--writers", nargs="+", type=int, default=[2, 4, 8])
    parser.add_argument("--records", type=int, default=400, help="transactions per hot writer")
    parser.add_argument("--hot-batch", type=int, default=10)
    args = parser.parse_args()
    with dynamodb_local() as local:
        os.environ.update(dynamodb_local_env(local.endpoint_url))
        admin = local.client()
        if args.hot:
            hot(args, admin)
        else:
            handlers(args, admin)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
