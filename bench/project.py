"""Benchmark: DynamoDB writes and capacity per source record of a search projection, exact and not.

A ``Users`` table (UserId; Name, Email, and a ~200-byte Bio the projection leaves out) receives
``--changes`` changes (default 5,000: ~25 % new users, ~65 % updates of a live user, ~10 %
deletes), written to DynamoDB Local and read back from its real stream. The records are fed, in
Lambda batches of 1, 10, 100 and 1,000, then 10 % of the batches delivered a second time, late
(a replay), to:

* ``tutorial``: the old tutorial's ``search_handler``: MODIFY records only (its FilterCriteria),
  one ``PutItem`` each on condition that a 40-digit padded ``Seq`` is older;
* ``conditional``: the same conditional put for INSERT and MODIFY, and a conditional
  ``DeleteItem`` for REMOVE: what a careful engineer writes by hand;
* ``projection``: ``ddbstream.project.Projection`` with ``DynamoDBSink`` (tombstones: a creation
  reads the tombstone, 1 RCU);
* ``projection-nt``: the same with ``tombstones=False``.

For each, per source record: requests, write actions, WCU and RCU by AWS's rules, and whether
the target ends equal to the source (``Name`` and ``Email`` of every existing user, no item for
a deleted one). Capacity comes from ``ReturnConsumedCapacity=TOTAL``
(``bench/cost.py``'s ``Meter``): DynamoDB Local's figures for single writes are used as they are
(1 WCU per KB of the larger of the item before and after; 1 RCU per 4 KB of a consistent read).
A write refused by its condition is computed (Local reports nothing): the size of the item it
found, at least 1 WCU. DynamoDB Local's ``TransactWriteItems`` figure is wrong (not per action);
none of these handlers sends one (the projection reads a tombstone rather than check it in a
transaction, which would cost 2 WCU per action on AWS), and the Meter would compute it as 2 WCU
per action if one did.

Run: ``python bench/project.py [--changes 5000] [--batch-sizes 1 10 100 1000] [--replay 0.1]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from _workloads import create, drop, dynamodb_local
from cost import Meter

from ddbstream import StreamEvent
from ddbstream.project import DynamoDBSink, Projection
from ddbstream.testing import dynamodb_local_env, read_stream

SOURCE = "BenchUsers"
Handler = Callable[[dict[str, Any]], object]


def write_changes(client: Any, *, changes: int, seed: int = 7) -> list[dict[str, Any]]:
    """Write the changes to a fresh ``BenchUsers``; return its stream records."""
    stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    create(client, SOURCE, [("UserId", "HASH")], StreamSpecification=stream)
    rng = random.Random(seed)
    live: list[str] = []
    serial = 0
    for _ in range(changes):
        roll = rng.random()
        if live and roll < 0.1:
            uid = live.pop(rng.randrange(len(live)))
            client.delete_item(TableName=SOURCE, Key={"UserId": {"S": uid}})
            continue
        if live and roll < 0.75:
            uid = live[rng.randrange(len(live))]
        else:
            serial += 1
            uid = f"user{serial:06}"
            live.append(uid)
        item = {
            "UserId": {"S": uid},
            "Name": {"S": f"Name {rng.randrange(10**6)}"},
            "Email": {"S": f"{uid}@example.com"},
            "Bio": {"S": "x" * 200},
        }
        client.put_item(TableName=SOURCE, Item=item)
    import boto3

    streams = boto3.client("dynamodbstreams", endpoint_url=client.meta.endpoint_url)
    return read_stream(streams, table_name=SOURCE)


def search_copy(client: Any, table: str) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    params: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**params)
        for item in page["Items"]:
            out[item["UserId"]["S"]] = (item["Name"]["S"], item["Email"]["S"])
        if "LastEvaluatedKey" not in page:
            return out
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _seq(record: Any) -> str:
    return str(record.sequence_number).zfill(40)


def _conditional_put(client: Any, table: str, record: Any) -> None:
    new = record.new_image
    with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName=table,
            Item={
                "UserId": {"S": new["UserId"]},
                "Name": {"S": new["Name"]},
                "Email": {"S": new["Email"]},
                "Seq": {"S": _seq(record)},
            },
            ConditionExpression="attribute_not_exists(UserId) OR Seq < :seq",
            ExpressionAttributeValues={":seq": {"S": _seq(record)}},
        )


def tutorial(client: Any, table: str) -> Handler:
    def handle(event: dict[str, Any]) -> None:
        for record in StreamEvent.from_lambda(event):
            if record.event_name == "MODIFY":  # the tutorial's FilterCriteria
                _conditional_put(client, table, record)

    return handle


def conditional(client: Any, table: str) -> Handler:
    def handle(event: dict[str, Any]) -> None:
        for record in StreamEvent.from_lambda(event):
            if record.event_name != "REMOVE":
                _conditional_put(client, table, record)
                continue
            with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
                client.delete_item(
                    TableName=table,
                    Key={"UserId": {"S": record.keys["UserId"]}},
                    ConditionExpression="attribute_not_exists(UserId) OR Seq < :seq",
                    ExpressionAttributeValues={":seq": {"S": _seq(record)}},
                )

    return handle


def _search_entry(user: Any) -> dict[str, Any]:
    return {"UserId": user["UserId"], "Name": user["Name"], "Email": user["Email"]}


def projection(tombstones: bool) -> Callable[[Any, str], Handler]:
    def make(client: Any, table: str) -> Handler:
        sink = DynamoDBSink(table, key="UserId", client=client, tombstones=tombstones)
        sink.create_tombstone_table()
        search = Projection(_search_entry, sink=sink)
        return lambda event: search.handle(event, None)

    return make


HANDLERS: dict[str, Callable[[Any, str], Handler]] = {
    "tutorial": tutorial,
    "conditional": conditional,
    "projection": projection(True),
    "projection-nt": projection(False),
}


@dataclass
class Row:
    batch: int
    handler: str
    records: int
    requests: float
    write_actions: float
    wcu: float
    rcu: float
    exact: bool
    wcu_vs_conditional: float | None = None


def run_one(
    admin: Any,
    records: list[dict[str, Any]],
    expected: dict[str, tuple[str, str]],
    *,
    handler_name: str,
    batch: int,
    replay: float,
) -> Row:
    import boto3

    table = f"BenchSearch{uuid.uuid4().hex[:8]}"
    create(admin, table, [("UserId", "HASH")])
    client = boto3.client("dynamodb", endpoint_url=admin.meta.endpoint_url)
    handler = HANDLERS[handler_name](client, table)
    meter = Meter()
    meter.attach(client)
    batches = [records[i : i + batch] for i in range(0, len(records), batch)]
    for chunk in batches:
        handler({"Records": chunk})
    rng = random.Random(11)
    for chunk in rng.sample(batches, round(len(batches) * replay)):
        handler({"Records": chunk})
    exact = search_copy(admin, table) == expected
    drop(admin, table, f"{table}Tombstones")
    n = len(records)
    per = (meter.requests / n, meter.write_actions / n, meter.wcu / n, meter.rcu / n)
    return Row(batch, handler_name, n, *per, exact)


def print_rows(rows: list[Row]) -> None:
    print("| batch | handler | requests | write actions | WCU | RCU | WCU vs conditional | exact |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = "" if r.wcu_vs_conditional is None else f"{r.wcu_vs_conditional:.2f}x"
        print(
            f"| {r.batch} | {r.handler} | {r.requests:.3f} | {r.write_actions:.3f} | "
            f"{r.wcu:.3f} | {r.rcu:.3f} | {ratio} | {'yes' if r.exact else 'no'} |",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=5_000)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 10, 100, 1000])
    parser.add_argument("--handlers", nargs="+", default=list(HANDLERS), choices=HANDLERS)
    parser.add_argument("--replay", type=float, default=0.1, help="share of batches redelivered")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    rows: list[Row] = []
    with dynamodb_local() as local:
        import os

        os.environ.update(dynamodb_local_env(local.endpoint_url))
        admin = local.client()
        records = write_changes(admin, changes=args.changes)
        expected = search_copy_of_source(admin)
        print(f"{len(records)} stream records, {len(expected)} users at the end", flush=True)
        for batch in args.batch_sizes:
            measured = [
                run_one(admin, records, expected, handler_name=h, batch=batch, replay=args.replay)
                for h in args.handlers
            ]
            base = next((r.wcu for r in measured if r.handler == "conditional"), None)
            for row in measured:
                row.wcu_vs_conditional = None if not base else row.wcu / base
            rows.extend(measured)
        print_rows(rows)
        drop(admin, SOURCE)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


def search_copy_of_source(client: Any) -> dict[str, tuple[str, str]]:
    return search_copy(client, SOURCE)


if __name__ == "__main__":
    sys.exit(main())
