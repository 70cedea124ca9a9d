"""Benchmark: DynamoDB capacity per side effect of once-per-change handlers, on DynamoDB Local.

``--users`` new users (INSERTs of ``Users`` with an ``Email``, Lambda events of ``--batch``
records) go through each handler once, and then every batch is delivered a second time (a
redelivery, the common case after a timeout). Contenders, each in the same process with its
own client:

* ``tutorial``: the old welcome-email handler: a hand-written conditional ``PutItem`` into the
  outbox per record, outside the Router (the code this project's tutorial had before);
* ``outbox``: the new tutorial: the Router and ``DynamoDBOutbox.put`` (the same request);
* ``once``: the Router and ``Once(DynamoDBStore(...))`` around an in-process effect (a claim
  and a completion per effect);
* ``powertools``: the Router and Powertools' ``idempotent_function`` keyed on the eventID
  (``aws-lambda-powertools`` from the bench extra), around the same effect.

For each, per effect (first delivery) and per redelivered record: requests, write actions, WCU
and RCU by AWS's rules, and whether each effect ran exactly once. Capacity comes from
``ReturnConsumedCapacity=TOTAL`` on every request (``bench/cost.py``'s ``Meter``): DynamoDB
Local's figures for single writes are AWS's (1 WCU per KB of the larger of the item before and
after); a write refused by its condition, for which Local reports nothing, is charged the size
of the item it found, at least 1 WCU, as AWS does. None of these handlers uses
``TransactWriteItems`` (2 WCU per KB per action on AWS, a figure Local gets wrong). Wall time
is DynamoDB Local's, on a shared machine: indicative only.

Run: ``python bench/once.py [--users 2000] [--batch 100] [--handlers ...]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workloads import create, drop, dynamodb_local
from cost import Meter

from ddbstream import Router, StreamEvent, StreamRecord
from ddbstream.once import DynamoDBOutbox, DynamoDBStore, Once
from ddbstream.testing import EventBuilder, dynamodb_local_env

Handler = Callable[[dict[str, Any]], Any]
Make = Callable[[Any, str, list[str]], tuple[Handler, Any]]


@dataclass
class Row:
    handler: str
    effects: int
    requests: float
    write_actions: float
    wcu: float
    rcu: float
    redelivered_wcu: float
    redelivered_requests: float
    seconds: float
    exactly_once: bool


def _client() -> Any:
    import boto3

    return boto3.client("dynamodb")


def _tutorial(admin: Any, table: str, log: list[str]) -> tuple[Handler, Any]:
    create(admin, table, [("MessageId", "HASH")])
    client = _client()

    def handler(event: dict[str, Any]) -> Any:  # the seed tutorial's handler, verbatim in shape
        failures = []
        for record in StreamEvent.from_lambda(event):
            user = record.new_image
            if user is None or "Email" not in user:
                continue
            try:
                client.put_item(
                    TableName=table,
                    Item={
                        "MessageId": {"S": f"welcome#{user['UserId']}"},
                        "To": {"S": user["Email"]},
                        "Subject": {"S": f"Welcome, {user.get('Name', 'friend')}!"},
                        "SourceEventId": {"S": record.event_id},
                    },
                    ConditionExpression="attribute_not_exists(MessageId)",
                )
                log.append(str(user["UserId"]))
            except client.exceptions.ConditionalCheckFailedException:
                continue
            except Exception:
                failures.append({"itemIdentifier": record.item_identifier})
        return {"batchItemFailures": failures}

    return handler, client


def _outbox(admin: Any, table: str, log: list[str]) -> tuple[Handler, Any]:
    client = _client()
    outbox = DynamoDBOutbox(table, client=client)
    outbox.create_table()
    router = Router()

    @router.route(None)
    def welcome(record: StreamRecord) -> None:
        user = record.require_new()
        message = {"To": user["Email"], "Subject": f"Welcome, {user.get('Name', 'friend')}!"}
        if outbox.put(f"welcome#{user['UserId']}", {**message, "SourceEventId": record.event_id}):
            log.append(str(user["UserId"]))

    return router.handle, client


def _once(admin: Any, table: str, log: list[str]) -> tuple[Handler, Any]:
    client = _client()
    store = DynamoDBStore(table, client=client)
    store.create_table()
    router = Router()

    @router.route(None)
    @Once(store, key=lambda r: f"welcome#{r.keys['UserId']}", keep=None)
    def welcome(record: StreamRecord) -> None:
        log.append(str(record.keys["UserId"]))

    return router.handle, client


def _powertools(admin: Any, table: str, log: list[str]) -> tuple[Handler, Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    create(admin, table, [("id", "HASH")])
    client = _client()
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)
    config = IdempotencyConfig(event_key_jmespath="user", raise_on_no_idempotency_key=True)

    @idempotent_function(data_keyword_argument="welcome", persistence_store=store, config=config)
    def send(welcome: dict[str, str]) -> None:
        log.append(welcome["user"])

    router = Router()

    @router.route(None)
    def on_user(record: StreamRecord) -> None:
        send(welcome={"user": str(record.keys["UserId"])})

    return router.handle, client


HANDLERS: dict[str, Make] = {
    "tutorial": _tutorial,
    "outbox": _outbox,
    "once": _once,
    "powertools": _powertools,
}


def events(users: int, batch: int) -> list[dict[str, Any]]:
    builder = EventBuilder("Users", keys=("UserId",))
    records = [
        builder.insert({"UserId": f"u{n}", "Name": f"User {n}", "Email": f"u{n}@example.com"})
        for n in range(users)
    ]
    return [builder.lambda_event(*records[i : i + batch]) for i in range(0, users, batch)]


def run_one(admin: Any, name: str, batches: list[dict[str, Any]], users: int) -> Row:
    table = f"bench-once-{name}-{uuid.uuid4().hex[:6]}"
    log: list[str] = []
    handler, client = HANDLERS[name](admin, table, log)
    meter = Meter()
    meter.attach(client)
    started = time.perf_counter()
    for event in batches:
        assert handler(event) == {"batchItemFailures": []}
    first = (meter.requests, meter.write_actions, meter.wcu, meter.rcu)
    for event in batches:  # every batch delivered again
        assert handler(event) == {"batchItemFailures": []}
    seconds = time.perf_counter() - started
    drop(admin, table)
    return Row(
        handler=name,
        effects=len(log),
        requests=first[0] / users,
        write_actions=first[1] / users,
        wcu=first[2] / users,
        rcu=first[3] / users,
        redelivered_wcu=(meter.wcu - first[2]) / users,
        redelivered_requests=(meter.requests - first[0]) / users,
        seconds=seconds,
        exactly_once=sorted(log) == sorted(f"u{n}" for n in range(users)),
    )


def print_rows(rows: list[Row]) -> None:
    base = next((r for r in rows if r.handler == "tutorial"), None)
    print(
        "| handler | requests / effect | write actions / effect | WCU / effect | RCU / effect "
        "| WCU / redelivered record | WCU vs tutorial | each effect once | wall time |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r.wcu / base.wcu:.2f}x" if base is not None and base.wcu else "-"
        print(
            f"| {r.handler} | {r.requests:.2f} | {r.write_actions:.2f} | {r.wcu:.2f} | "
            f"{r.rcu:.2f} | {r.redelivered_wcu:.2f} | {ratio} | "
            f"{'yes' if r.exactly_once else 'no'} | {r.seconds:.1f} s |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--handlers", nargs="+", default=list(HANDLERS), choices=HANDLERS)
    args = parser.parse_args()
    batches = events(args.users, args.batch)
    with dynamodb_local() as local:
        os.environ.update(dynamodb_local_env(local.endpoint_url))
        admin = local.client()
        for name in args.handlers:  # warm DynamoDB Local's JVM up
            run_one(admin, name, events(200, args.batch), 200)
        rows = [run_one(admin, name, batches, args.users) for name in args.handlers]
    print(f"\n{args.users} new users in batches of {args.batch}, each batch delivered twice\n")
    print_rows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
