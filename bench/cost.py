"""Benchmark: DynamoDB capacity per source record of aggregation handlers, exact and not.

The invoice and score workloads (``_workloads``: 10,000 changes, ~70 % new items, ~20 % changed
values, ~10 % deletes, over 10, 100 and 1,000 groups) are read from DynamoDB Local's real stream
and fed, in Lambda batches of 1, 10, 100 and 1,000, then with 10 % of the batches delivered a
second time (a replay), to:

* ``tutorial``: the tutorial's handler, ``ADD`` the NewImage's value for every record;
* ``delta``: a per-record delta handler, ``ADD new - old`` for every record;
* ``powertools``: the delta inside Powertools' ``idempotent_function`` keyed on ``eventID`` (what
  a careful engineer writes today; ``aws-lambda-powertools`` from the bench extra);
* ``group`` / ``ledger`` / ``none``: ddbstream's aggregator with ``GroupLedger()`` (the default),
  ``Ledger(table=...)`` and ``ledger=None`` (at-least-once).

For each, per source record: requests, write actions (an UpdateItem is one, a transaction one per
item it writes), WCU and RCU by AWS's rules, and whether the final totals are exact. Capacity
comes from ``ReturnConsumedCapacity=TOTAL`` added to every request: DynamoDB Local's figures for
single writes and reads (1 WCU per KB of the larger of the item before and after; 1 RCU per 4 KB
for a consistent read) are used as they are. Two are computed, because DynamoDB Local reports
none or a wrong one: a ``TransactWriteItems`` costs 2 WCU per KB per action on AWS, and Local's
figure is not even per action (about 7 units for a 115-action transaction), so it is counted as
2 WCU per action (every item these transactions write, totals and ledger items alike, is under
1 KB), cancelled or not; and a write refused by its condition (Local reports nothing) costs the
size of the item it found (returned with ``ReturnValuesOnConditionCheckFailure``), at least
1 WCU.

The per-record handlers (``tutorial``, ``delta``, ``powertools``) send the same requests for a
record whatever the batch size, so they run once per workload and group count, at batch 100
(``--per-record-batch``), and their per-record figures stand for every batch size (marked ``*``).

Run: ``python bench/cost.py [--workload invoice score] [--groups 10 100 1000]
[--batch-sizes 1 10 100 1000] [--handlers ...] [--changes 10000] [--replay 0.1]``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workloads import (
    WORKLOADS,
    Handler,
    Workload,
    apply_delta,
    create,
    delta_handler,
    drop,
    dynamodb_local,
    expected_totals,
    table_totals,
    tutorial_handler,
    write_changes,
)

from ddbstream.aggregate import Aggregator, DynamoDBSink, GroupLedger, Ledger, Sum
from ddbstream.testing import dynamodb_local_env

_WITH_CAPACITY = {
    "PutItem", "UpdateItem", "DeleteItem", "GetItem", "BatchGetItem", "BatchWriteItem",
    "TransactWriteItems", "TransactGetItems", "Query", "Scan",
}  # fmt: skip
_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


def item_size(item: dict[str, Any]) -> int:
    """An item's size by DynamoDB's rules (names + values; numbers ~1 byte per 2 digits)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((tag, inner),) = value.items()
    if tag == "S":
        return len(inner.encode())
    if tag == "N":
        digits = len(str(inner).lstrip("-").replace(".", "").strip("0")) or 1
        return math.ceil(digits / 2) + 1
    if tag == "B":
        return len(inner)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag in ("SS", "NS", "BS"):
        return sum(_value_size({tag[0]: v}) for v in inner)
    if tag == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in inner.items())
    return 3 + sum(_value_size(v) + 1 for v in inner)  # L


@dataclass
class Meter:
    """What a client's requests cost: hooks on its botocore events."""

    requests: int = 0
    write_actions: int = 0
    wcu: float = 0.0
    rcu: float = 0.0
    computed_wcu: float = 0.0  # the part computed here (transactions, refused conditions)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    local: threading.local = field(default_factory=threading.local, repr=False)

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._ask)
        events.register("after-call.dynamodb", self._count)

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in _WITH_CAPACITY:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        self.local.params = params

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        params = getattr(self.local, "params", {})
        actions = len(params.get("TransactItems", ())) if name == "TransactWriteItems" else 1
        wcu = rcu = computed = 0.0
        capacity = parsed.get("ConsumedCapacity") or []
        if not isinstance(capacity, list):
            capacity = [capacity]
        units = sum(c.get("CapacityUnits", 0.0) for c in capacity)
        if "Error" in parsed:
            if name in _WRITES:  # refused by its condition: the item it found is charged
                computed = max(1, math.ceil(item_size(parsed.get("Item") or {}) / 1024))
            elif name == "TransactWriteItems":
                computed = 2.0 * actions
        elif name == "TransactWriteItems":
            computed = 2.0 * actions  # AWS: 2 WCU per KB per action; Local's figure is wrong
        elif name in _WRITES or name == "BatchWriteItem":
            wcu = units
        else:
            rcu = units
        with self.lock:
            self.requests += 1
            if name in _WRITES or name in ("TransactWriteItems", "BatchWriteItem"):
                self.write_actions += actions
            self.wcu += wcu + computed
            self.rcu += rcu
            self.computed_wcu += computed


@dataclass
class Row:
    workload: str
    groups: int
    batch: int
    handler: str
    records: int
    requests: float
    write_actions: float
    wcu: float
    rcu: float
    exact: bool
    wcu_vs_tutorial: float | None = None
    measured_at: int | None = None  # the batch size a per-record handler ran at


Make = Callable[[Any, Workload, str], tuple[Handler, Any]]


def _client() -> Any:
    import boto3

    return boto3.client("dynamodb")


def _tutorial(_: Any, workload: Workload, table: str) -> tuple[Handler, Any]:
    client = _client()
    return tutorial_handler(client, workload, table), client


def _delta(_: Any, workload: Workload, table: str) -> tuple[Handler, Any]:
    client = _client()
    return delta_handler(client, workload, table), client


def _powertools(admin: Any, workload: Workload, table: str) -> tuple[Handler, Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    idempotency = f"{table}Idempotency"
    create(admin, idempotency, [("id", "HASH")])
    client = _client()
    store = DynamoDBPersistenceLayer(table_name=idempotency, boto3_client=client)
    config = IdempotencyConfig(event_key_jmespath="eventID", raise_on_no_idempotency_key=True)

    @idempotent_function(data_keyword_argument="record", persistence_store=store, config=config)
    def apply(record: dict[str, Any]) -> None:
        apply_delta(client, workload, table, record)

    def handler(event: dict[str, Any]) -> None:
        for record in event["Records"]:
            apply(record=record)

    return handler, client


def _ddbstream(kind: str) -> Make:
    def make(admin: Any, workload: Workload, table: str) -> tuple[Handler, Any]:
        ledger: Any = GroupLedger()
        if kind == "ledger":
            create(admin, f"{table}Ledger", [("pk", "HASH")])
            ledger = Ledger(table=f"{table}Ledger")
        elif kind == "none":
            ledger = None
        key: Any = workload.target_keys[0][0]
        if workload.name == "score":

            def key(user: str) -> dict[str, str]:
                return {"PK": f"USER#{user}", "SK": "TOTAL"}

        sink = DynamoDBSink(table, key=key, updated_attribute="UpdateDate", ledger=ledger)

        def group(image: Any) -> str:
            if workload.name == "invoice":
                return str(image["InvoiceNumber"])
            return str(image["SK"]).removeprefix("USER#")

        aggregator = Aggregator(group, {workload.measure: Sum(workload.value)}, sink=sink)

        def handler(event: dict[str, Any]) -> None:
            response = aggregator.handle(event, None)
            assert response == {"batchItemFailures": []}, response

        return handler, sink.client

    return make


PER_RECORD = ("tutorial", "delta", "powertools")
HANDLERS: dict[str, Make] = {
    "tutorial": _tutorial,
    "delta": _delta,
    "powertools": _powertools,
    "group": _ddbstream("group"),
    "ledger": _ddbstream("ledger"),
    "none": _ddbstream("none"),
}


def run_one(
    admin: Any,
    workload: Workload,
    records: list[dict[str, Any]],
    expected: dict[str, Decimal],
    *,
    handler_name: str,
    batch: int,
    replay: float,
    groups: int,
) -> Row:
    table = f"BenchCost{uuid.uuid4().hex[:8]}"
    create(admin, table, workload.target_keys)
    handler, client = HANDLERS[handler_name](admin, workload, table)
    meter = Meter()
    meter.attach(client)
    batches = [records[i : i + batch] for i in range(0, len(records), batch)]
    for chunk in batches:
        handler({"Records": chunk})
    rng = random.Random(11)
    for chunk in rng.sample(batches, round(len(batches) * replay)):
        handler({"Records": chunk})
    exact = table_totals(admin, workload, table) == expected
    drop(admin, table, f"{table}Ledger", f"{table}Idempotency")
    n = len(records)
    per = (meter.requests / n, meter.write_actions / n, meter.wcu / n, meter.rcu / n)
    return Row(workload.name, groups, batch, handler_name, n, *per, exact)


def print_rows(rows: list[Row]) -> None:
    print(
        "| workload | groups | batch | handler | requests | write actions | WCU | RCU | "
        "WCU vs tutorial | exact |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = "" if r.wcu_vs_tutorial is None else f"{r.wcu_vs_tutorial:.2f}x"
        star = "*" if r.measured_at not in (None, r.batch) else ""
        print(
            f"| {r.workload} | {r.groups} | {r.batch} | {r.handler}{star} | {r.requests:.3f} | "
            f"{r.write_actions:.3f} | {r.wcu:.3f} | {r.rcu:.3f} | {ratio} | "
            f"{'yes' if r.exact else 'no'} |",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", nargs="+", default=["invoice", "score"], choices=WORKLOADS)
    parser.add_argument("--groups", nargs="+", type=int, default=[10, 100, 1000])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 10, 100, 1000])
    parser.add_argument("--handlers", nargs="+", default=list(HANDLERS), choices=HANDLERS)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--replay", type=float, default=0.1, help="share of batches redelivered")
    parser.add_argument(
        "--per-record-batch",
        type=int,
        default=100,
        help="the batch size per-record handlers run at (0: every batch size)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    rows: list[Row] = []
    with dynamodb_local() as local:
        import os

        os.environ.update(dynamodb_local_env(local.endpoint_url))
        admin = local.client()
        for name in args.workload:
            workload = WORKLOADS[name]
            for groups in args.groups:
                records = write_changes(admin, workload, changes=args.changes, groups=groups)
                expected = expected_totals(admin, workload)
                warm = {"batch": 100, "replay": 0.0, "groups": groups}
                for handler_name in args.handlers:  # warm DynamoDB Local's JVM up
                    run_one(admin, workload, records[:300], {}, handler_name=handler_name, **warm)
                print(f"\n{name}: {len(records)} stream records over {groups} groups", flush=True)
                once: dict[str, Row] = {}
                if args.per_record_batch:
                    options = {
                        "batch": args.per_record_batch,
                        "replay": args.replay,
                        "groups": groups,
                    }
                    for h in (h for h in args.handlers if h in PER_RECORD):
                        once[h] = run_one(
                            admin, workload, records, expected, handler_name=h, **options
                        )
                        once[h].measured_at = args.per_record_batch
                for batch in args.batch_sizes:
                    options = {"batch": batch, "replay": args.replay, "groups": groups}
                    batch_rows = [
                        replace(once[h], batch=batch)
                        if h in once
                        else run_one(admin, workload, records, expected, handler_name=h, **options)
                        for h in args.handlers
                    ]
                    tutorial = next((r for r in batch_rows if r.handler == "tutorial"), None)
                    for row in batch_rows:
                        if tutorial is not None and tutorial.wcu:
                            row.wcu_vs_tutorial = row.wcu / tutorial.wcu
                    print_rows(batch_rows)
                    rows.extend(batch_rows)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
