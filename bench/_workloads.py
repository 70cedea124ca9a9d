"""The aggregation workloads shared by ``bench/cost.py`` and ``bench/aggregate.py``.

* invoice: the AWS tutorial's ``InvoiceTransactions`` (InvoiceNumber, TransactionId, Amount); a
  total per invoice in ``InvoiceTotal`` (Total, UpdateDate).
* score: the gaming tutorial's single table (``PK=SCORE#<id>``, ``SK=USER#<user>``, Score); a
  total per user in ``PK=USER#<user>, SK=TOTAL`` (TotalScore).

Changes are ~70 % new items, ~20 % changed values, ~10 % deletes, with a fixed seed, written to
DynamoDB Local and read back from the real stream. Besides ddbstream's aggregator, each workload
has the handlers people write: the tutorial's (``ADD`` the new value for every record: wrong on
updates, deletes and redeliveries) and a per-record delta (``ADD new - old``: right on updates and
deletes, wrong on redeliveries).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ddbstream.testing import DynamoDBLocal, read_stream

Handler = Callable[[dict[str, Any]], None]


@contextmanager
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    import os

    endpoint = os.environ.get("DDBSTREAM_DYNAMODB_ENDPOINT")
    if endpoint:
        yield DynamoDBLocal.connect(endpoint)
        return
    with DynamoDBLocal() as local:
        yield local


def create(client: Any, name: str, keys: list[tuple[str, str]], **extra: Any) -> None:
    """(Re)create a table with string keys, on demand."""
    if name in client.list_tables(Limit=100)["TableNames"]:
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


def drop(client: Any, *names: str) -> None:
    for name in names:
        try:
            client.delete_table(TableName=name)
        except client.exceptions.ResourceNotFoundException:
            continue


@dataclass(frozen=True)
class Workload:
    """One workload: its source table, its target's key, and how to read a group and a value."""

    name: str
    source: str
    source_keys: list[tuple[str, str]]
    target_keys: list[tuple[str, str]]
    measure: str  # the total's attribute
    value: str  # the source attribute summed

    def item(self, key: tuple[str, str], amount: Decimal) -> dict[str, Any]:
        group, ident = key
        if self.name == "invoice":
            return {
                "InvoiceNumber": {"S": group},
                "TransactionId": {"S": ident},
                "Amount": {"N": str(amount)},
                "InvoiceDate": {"S": "2024-06-10"},
            }
        return {
            "PK": {"S": f"SCORE#{ident}"},
            "SK": {"S": f"USER#{group}"},
            "Score": {"N": str(amount)},
        }

    def source_key(self, key: tuple[str, str]) -> dict[str, Any]:
        item = self.item(key, Decimal(0))
        return {name: item[name] for name, _ in self.source_keys}

    def group_of(self, image: dict[str, Any]) -> str:
        """The group of a source image (descriptors)."""
        if self.name == "invoice":
            return str(image["InvoiceNumber"]["S"])
        return str(image["SK"]["S"]).removeprefix("USER#")

    def target_key(self, group: str) -> dict[str, Any]:
        if self.name == "invoice":
            return {"InvoiceNumber": {"S": group}}
        return {"PK": {"S": f"USER#{group}"}, "SK": {"S": "TOTAL"}}

    def group_of_target(self, item: dict[str, Any]) -> str:
        if self.name == "invoice":
            return str(item["InvoiceNumber"]["S"])
        return str(item["PK"]["S"]).removeprefix("USER#")


INVOICE = Workload(
    "invoice",
    "BenchInvoiceTransactions",
    [("InvoiceNumber", "HASH"), ("TransactionId", "RANGE")],
    [("InvoiceNumber", "HASH")],
    "Total",
    "Amount",
)
SCORE = Workload(
    "score",
    "BenchGameScores",
    [("PK", "HASH"), ("SK", "RANGE")],
    [("PK", "HASH"), ("SK", "RANGE")],
    "TotalScore",
    "Score",
)
WORKLOADS = {"invoice": INVOICE, "score": SCORE}


def write_changes(
    client: Any, workload: Workload, *, changes: int, groups: int, seed: int = 7
) -> list[dict[str, Any]]:
    """Write ``changes`` changes (~70 % new items, ~20 % new values, ~10 % deletes) to a fresh
    source table; return its stream records, as Lambda delivers them."""
    create(
        client,
        workload.source,
        workload.source_keys,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    rng = random.Random(seed)
    live: list[tuple[str, str]] = []
    pending: list[dict[str, Any]] = []
    touched: set[tuple[str, str]] = set()
    serial = 0

    def flush() -> None:
        if pending:
            client.batch_write_item(RequestItems={workload.source: list(pending)})
            pending.clear()
            touched.clear()

    for _ in range(changes):
        roll = rng.random()
        if live and roll < 0.1:
            key = live.pop(rng.randrange(len(live)))
            request: dict[str, Any] = {"DeleteRequest": {"Key": workload.source_key(key)}}
        else:
            if live and roll < 0.3:
                key = live[rng.randrange(len(live))]
            else:
                serial += 1
                key = (f"G{rng.randrange(groups):04}", f"T{serial:06}")
                live.append(key)
            amount = Decimal(rng.randrange(1, 100_000)).scaleb(-2)
            request = {"PutRequest": {"Item": workload.item(key, amount)}}
        if key in touched or len(pending) == 25:
            flush()
        touched.add(key)
        pending.append(request)
    flush()
    return read_stream_of(client, workload)


def read_stream_of(client: Any, workload: Workload) -> list[dict[str, Any]]:
    import boto3

    streams = boto3.client("dynamodbstreams", endpoint_url=client.meta.endpoint_url)
    return read_stream(streams, table_name=workload.source)


def expected_totals(client: Any, workload: Workload) -> dict[str, Decimal]:
    """The totals the source table implies (groups at zero left out)."""
    totals: dict[str, Decimal] = {}
    params: dict[str, Any] = {"TableName": workload.source, "ConsistentRead": True}
    while True:
        page = client.scan(**params)
        for item in page["Items"]:
            group = workload.group_of(item)
            totals[group] = totals.get(group, Decimal(0)) + Decimal(item[workload.value]["N"])
        if "LastEvaluatedKey" not in page:
            return {g: t for g, t in totals.items() if t}
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def table_totals(client: Any, workload: Workload, table: str) -> dict[str, Decimal]:
    """The totals a target table holds (bookkeeping items and attributes ignored)."""
    totals: dict[str, Decimal] = {}
    params: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**params)
        for item in page["Items"]:
            if workload.measure in item:
                value = Decimal(item[workload.measure]["N"])
                if value:
                    totals[workload.group_of_target(item)] = value
        if "LastEvaluatedKey" not in page:
            return totals
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _update(client: Any, workload: Workload, table: str, group: str, amount: Any) -> None:
    client.update_item(
        TableName=table,
        Key=workload.target_key(group),
        UpdateExpression="ADD #t :amount SET #d = :date",
        ExpressionAttributeNames={"#t": workload.measure, "#d": "UpdateDate"},
        ExpressionAttributeValues={
            ":amount": amount,
            ":date": {"S": time.strftime("%Y-%m-%dT%H:%M:%SZ")},
        },
    )


def tutorial_handler(client: Any, workload: Workload, table: str) -> Handler:
    """The tutorial's handler: ADD the NewImage's value for every record (REMOVEs skipped)."""

    def handler(event: dict[str, Any]) -> None:
        for record in event["Records"]:
            image = record["dynamodb"].get("NewImage")
            if image is None:
                continue  # the tutorial's code reads NewImage only; REMOVE records have none
            _update(client, workload, table, workload.group_of(image), image[workload.value])

    return handler


def delta_of(workload: Workload, record: dict[str, Any]) -> list[tuple[str, Decimal]]:
    """What one record adds to which group: new minus old (two groups when it moved)."""
    parts: dict[str, Decimal] = {}
    for image_name, sign in (("NewImage", 1), ("OldImage", -1)):
        image = record["dynamodb"].get(image_name)
        if image is not None:
            group = workload.group_of(image)
            parts[group] = parts.get(group, Decimal(0)) + sign * Decimal(image[workload.value]["N"])
    return [(g, v) for g, v in parts.items() if v]


def delta_handler(client: Any, workload: Workload, table: str) -> Handler:
    """A careful per-record handler: ADD new - old for each record (not idempotent)."""

    def handler(event: dict[str, Any]) -> None:
        for record in event["Records"]:
            for group, amount in delta_of(workload, record):
                _update(client, workload, table, group, {"N": str(amount)})

    return handler


def apply_delta(client: Any, workload: Workload, table: str, record: dict[str, Any]) -> None:
    for group, amount in delta_of(workload, record):
        _update(client, workload, table, group, {"N": str(amount)})
