"""Decode benchmark: ddbstream against json.loads, boto3, and Powertools' data class and parser.

All contenders run in one process on the same generated Lambda DynamoDB stream events::

    .venv/bin/python bench/decode.py                 # invoice + wide, 100/1000/10000 records
    .venv/bin/python bench/decode.py --sizes 1000 --json

Two event shapes, every record a MODIFY with ``Keys``, ``NewImage`` and ``OldImage``:

* ``invoice``: the invoice tutorial's ``InvoiceTransactions`` items, 10 flat attributes
  (InvoiceNumber S, TransactionId S, Amount N, InvoiceDate S, ...).
* ``wide``: a single-table item, PK/SK plus 28 attributes including nested M and L, SS, NS,
  BOOL, NULL and B.

Timing: medians of 15 repeats (5 at 10,000 records), contenders interleaved round-robin, the
garbage collector off inside a repeat, and this process's CPU time by default (``--clock wall``
for wall time): on a machine shared with other work, CPU time does not count the time the
benchmark waits for a core, and interleaving spreads the remaining interference evenly.

Contenders (each call starts from the already-parsed event, except ``json.loads``, and decodes
every image of every record unless the name says otherwise):

* ``json.loads``: parsing the event text, the floor every handler pays before it runs.
* ``boto3 TypeDeserializer``: ``{k: td.deserialize(v) ...}`` per image. boto3 wants B as
  ``bytes``, not the base64 text Lambda sends, so it gets a copy of the event whose B/BS values
  were base64-decoded beforehand, untimed (this favours boto3: ddbstream pays for base64).
* ``Powertools data class``: ``DynamoDBStreamEvent(event)``, then ``keys``, ``new_image`` and
  ``old_image`` of each record's ``dynamodb`` (Powertools leaves B as base64 text, less work).
* ``Powertools parser``: ``DynamoDBStreamModel.model_validate(event)`` (decodes eagerly;
  boto3-style, so it gets the same bytes copy as boto3).
* ``ddbstream full``: ``StreamEvent.from_lambda(event)`` and ``to_dict()`` of every image.
* ``ddbstream deserialize_image``: the codec alone on every image (no record objects).
* ``ddbstream lazy (keys+2)``: build the event, then per record read every key attribute and
  two attributes of the new image.
* ``ddbstream typed (pydantic)``: ``StreamEvent.from_lambda(event, model=Invoice)`` and
  ``record.new`` for every record (invoice shape only).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import random
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    Result,
    add_output_options,
    check_goals,
    machine,
    measure_interleaved,
    print_table,
    save_json,
)

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-11-22T00:00:00.000"
SEQ_BASE = 4_100_000_000_000_000_000_000


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


def _record(i: int, table: str, keys: dict[str, Any], new: Any, old: Any, size: int) -> Any:
    return {
        "eventID": f"{i:08x}c2b8f1e04a8e9d3b7c6a5f4e{i % 997:03d}",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_763_800_000.0 + i,
            "Keys": keys,
            "NewImage": new,
            "OldImage": old,
            "SequenceNumber": str(SEQ_BASE + i * 100),
            "SizeBytes": size,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": ARN.format(table=table),
    }


def _invoice_item(rng: random.Random, i: int, version: int) -> dict[str, Any]:
    cents = rng.randrange(100, 10_000_000)
    return {
        "InvoiceNumber": {"S": f"INV-{i // 3:07d}"},
        "TransactionId": {"S": f"TXN-{i:09d}"},
        "Amount": {"N": f"{cents // 100}.{cents % 100:02d}"},
        "InvoiceDate": {"S": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"},
        "Customer": {"S": rng.choice(["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli"])},
        "Currency": {"S": rng.choice(["EUR", "USD", "GBP"])},
        "Status": {"S": ["DRAFT", "ISSUED", "PAID"][min(version, 2)]},
        "LineCount": {"N": str(rng.randrange(1, 40))},
        "Paid": {"BOOL": version >= 2},
        "Version": {"N": str(version)},
    }


def invoice_event(n: int, *, seed: int = 2) -> dict[str, Any]:
    """A Lambda event of ``n`` MODIFY records on the invoice tutorial's table."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        old = _invoice_item(rng, i, 1)
        new = dict(old, Status={"S": "PAID"}, Paid={"BOOL": True}, Version={"N": "2"})
        keys = {"InvoiceNumber": old["InvoiceNumber"], "TransactionId": old["TransactionId"]}
        records.append(_record(i, "InvoiceTransactions", keys, new, old, 412))
    return {"Records": records}


def _wide_item(rng: random.Random, i: int, version: int) -> dict[str, Any]:
    def n(text: object) -> dict[str, str]:
        return {"N": str(text)}

    def s(text: str) -> dict[str, str]:
        return {"S": text}

    items = [
        {
            "M": {
                "sku": s(f"SKU-{rng.randrange(10**6):06d}"),
                "qty": n(rng.randrange(1, 9)),
                "price": n(f"{rng.randrange(1, 500)}.{rng.randrange(100):02d}"),
            }
        }
        for _ in range(3)
    ]
    return {
        "PK": s(f"USER#{i // 4:06d}"),
        "SK": s(f"ORDER#{i:08d}"),
        "entity": s("Order"),
        "gsi1pk": s(f"STATUS#{['NEW', 'PACKED', 'SHIPPED'][version % 3]}"),
        "gsi1sk": s(f"2026-11-{1 + i % 28:02d}T10:{i % 60:02d}:00Z"),
        "created_at": s(f"2026-11-{1 + i % 28:02d}T10:{i % 60:02d}:00.000Z"),
        "updated_at": s(f"2026-11-{1 + i % 28:02d}T11:{i % 60:02d}:00.000Z"),
        "version": n(version),
        "status": s(["NEW", "PACKED", "SHIPPED"][version % 3]),
        "total": n(f"{rng.randrange(1, 100000)}.{rng.randrange(100):02d}"),
        "quantity": n(rng.randrange(1, 30)),
        "score": n(f"-0.{rng.randrange(1, 1000):03d}"),
        "ttl": n(1_790_000_000 + i),
        "active": {"BOOL": True},
        "deleted": {"BOOL": False},
        "archived": {"NULL": True},
        "tags": {"SS": ["gift", "express", f"batch-{i % 7}"]},
        "lucky": {"NS": ["7", "13", str(20 + i % 50)]},
        "avatar": {"B": base64.b64encode(rng.randbytes(48)).decode("ascii")},
        "email": s(f"user{i // 4}@example.com"),
        "phone": s(f"+1-555-{i % 10000:04d}"),
        "country": s(rng.choice(["US", "DE", "FR", "JP"])),
        "nickname": s(f"user-{i // 4}"),
        "description": s("Two boxes, leave at the door. " * 3),
        "address": {
            "M": {
                "street": s(f"{rng.randrange(1, 999)} Main St"),
                "city": s("Springfield"),
                "zip": s(f"{rng.randrange(10000, 99999)}"),
                "geo": {"M": {"lat": n("39.7817"), "lon": n("-89.6501")}},
            }
        },
        "items": {"L": items},
        "history": {"L": [s("created"), s("paid"), n(version)]},
        "prefs": {
            "M": {
                "theme": s("dark"),
                "notify": {"BOOL": True},
                "langs": {"L": [s("en"), s("de")]},
            }
        },
        "notes": {"NULL": True},
        "source": s("web"),
    }


def wide_event(n: int, *, seed: int = 3) -> dict[str, Any]:
    """A Lambda event of ``n`` MODIFY records of a wide single-table item."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        old = _wide_item(rng, i, 1)
        new = dict(old, version={"N": "2"}, status={"S": "SHIPPED"}, history={"L": []})
        keys = {"PK": old["PK"], "SK": old["SK"]}
        records.append(_record(i, "App", keys, new, old, 2100))
    return {"Records": records}


def _bytes_for_boto3(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``event`` whose B/BS values are bytes, as boto3's TypeDeserializer wants."""

    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and "B" in value and isinstance(value["B"], str):
                return {"B": base64.b64decode(value["B"])}
            if len(value) == 1 and "BS" in value:
                return {"BS": [base64.b64decode(v) for v in value["BS"]]}
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return fix(copy.deepcopy(event))


# ---------------------------------------------------------------------------------------------
# Contenders
# ---------------------------------------------------------------------------------------------

IMAGES = ("Keys", "NewImage", "OldImage")
LAZY_ATTRIBUTES = {"invoice": ("Amount", "Status"), "wide": ("total", "status")}


def _invoice_model() -> type[Any]:
    from pydantic import BaseModel

    class Invoice(BaseModel):
        InvoiceNumber: str
        TransactionId: str
        Amount: Decimal
        InvoiceDate: date
        Customer: str
        Currency: str
        Status: str
        LineCount: int
        Paid: bool
        Version: int

    return Invoice


def contenders(shape: str, event: dict[str, Any]) -> dict[str, Callable[[], object]]:
    """Name -> zero-argument callable doing that contender's work on ``event``."""
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
    from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
    from boto3.dynamodb.types import TypeDeserializer

    from ddbstream import StreamEvent, deserialize_image

    text = json.dumps(event)
    boto_event = _bytes_for_boto3(event) if shape == "wide" else event
    boto_records = boto_event["Records"]
    records = event["Records"]
    td = TypeDeserializer()
    first, second = LAZY_ATTRIBUTES[shape]

    def json_loads() -> object:
        return json.loads(text)

    def boto3_td() -> object:
        deserialize = td.deserialize
        out = []
        for record in boto_records:
            ddb = record["dynamodb"]
            out.append([{k: deserialize(v) for k, v in ddb[name].items()} for name in IMAGES])
        return out

    def powertools_dataclass() -> object:
        out = []
        for record in DynamoDBStreamEvent(event).records:
            ddb = record.dynamodb
            assert ddb is not None
            out.append((ddb.keys, ddb.new_image, ddb.old_image))
        return out

    def powertools_parser() -> object:
        return DynamoDBStreamModel.model_validate(boto_event)

    def ddb_full() -> object:
        out = []
        for record in StreamEvent.from_lambda(event):
            new, old = record.new_image, record.old_image
            assert new is not None
            assert old is not None
            out.append((record.keys.to_dict(), new.to_dict(), old.to_dict()))
        return out

    def ddb_codec() -> object:
        out = []
        for record in records:
            ddb = record["dynamodb"]
            out.append([deserialize_image(ddb[name]) for name in IMAGES])
        return out

    def ddb_lazy() -> object:
        out = []
        for record in StreamEvent.from_lambda(event):
            keys = record.keys
            new = record.new_image
            assert new is not None
            out.append(([keys[k] for k in keys], new[first], new[second]))
        return out

    result: dict[str, Callable[[], object]] = {
        "json.loads": json_loads,
        "boto3 TypeDeserializer": boto3_td,
        "Powertools data class": powertools_dataclass,
        "Powertools parser": powertools_parser,
        "ddbstream full": ddb_full,
        "ddbstream deserialize_image": ddb_codec,
        "ddbstream lazy (keys+2)": ddb_lazy,
    }
    if shape == "invoice":
        invoice = _invoice_model()

        def ddb_typed() -> object:
            return [r.new for r in StreamEvent.from_lambda(event, model=invoice)]

        result["ddbstream typed (pydantic)"] = ddb_typed
    return result


def _check_agreement(shape: str, event: dict[str, Any]) -> None:
    """Fail loudly if ddbstream and boto3 disagree on the decoded values (B aside)."""
    from boto3.dynamodb.types import Binary, TypeDeserializer

    from ddbstream import StreamEvent

    td = TypeDeserializer()
    boto_event = _bytes_for_boto3(event) if shape == "wide" else event

    def plain(value: Any) -> Any:
        if isinstance(value, Binary):
            return bytes(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, set):
            return {plain(v) for v in value}
        return value

    for ours, theirs in zip(StreamEvent.from_lambda(event), boto_event["Records"], strict=True):
        for name, image in (("NewImage", ours.new_image), ("OldImage", ours.old_image)):
            assert image is not None
            expected = {k: plain(td.deserialize(v)) for k, v in theirs["dynamodb"][name].items()}
            if image.to_dict() != expected:
                raise SystemExit(f"ddbstream and boto3 disagree on {shape} {name}")


GOALS = (
    # (goal, contender, reference, kind, bound)
    #   "faster": reference / contender >= bound  (contender is `bound` times faster)
    #   "at most": contender / reference <= bound
    (
        "full decode >= 1.6x faster than boto3",
        "ddbstream full",
        "boto3 TypeDeserializer",
        "faster",
        1.6,
    ),
    (
        "full decode >= 3x faster than Powertools",
        "ddbstream full",
        "Powertools data class",
        "faster",
        3.0,
    ),
    ("full decode <= 0.8x json.loads", "ddbstream full", "json.loads", "at most", 0.8),
    ("lazy (keys+2) <= 0.2x json.loads", "ddbstream lazy (keys+2)", "json.loads", "at most", 0.2),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="records per event")
    parser.add_argument("--shapes", default="invoice,wide", help="invoice and/or wide")
    parser.add_argument("--repeats", type=int, default=15, help="repeats per median")
    parser.add_argument("--only", default="", help="comma-separated contender name prefixes")
    add_output_options(parser, "decode", clock=True)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    shapes = [s for s in args.shapes.split(",") if s]
    only = [o.strip() for o in args.only.split(",") if o.strip()]
    builders = {"invoice": invoice_event, "wide": wide_event}

    info = machine()
    print(f"# decode benchmark: Python {info['python']}, {info['cores']} cores, {info['cpu']}")
    results: list[Result] = []
    for shape in shapes:
        for size in sizes:
            event = builders[shape](size)
            _check_agreement(shape, event)
            group = f"{shape}/{size}"
            repeats = args.repeats if size < 10_000 else max(5, args.repeats // 3)
            chosen = {
                name: fn
                for name, fn in contenders(shape, event).items()
                if not only or any(name.startswith(o) for o in only)
            }
            group_results = measure_interleaved(
                chosen, group=group, repeats=repeats, clock=args.clock
            )
            results.extend(group_results)
            for result in group_results:
                print(f"  {group:>14}  {result.name:<30} {result.median * 1e3:9.3f} ms", flush=True)
    print()
    print_table(
        results,
        baseline="json.loads",
        ratios=[
            ("ddbstream full", "boto3 TypeDeserializer"),
            ("ddbstream full", "Powertools data class"),
            ("ddbstream full", "Powertools parser"),
        ],
    )
    goal_groups = [f"{shape}/1000" for shape in shapes if 1000 in sizes]
    goals = check_goals(results, goal_groups, GOALS)
    if goals:
        print("\nGoals at 1000 records (medians):")
        for row in goals:
            mark = "met" if row["met"] else "NOT met"
            print(f"  {row['group']:<13} {row['goal']:<42} {row['measured']:<14} {mark}")
    if args.json is not None:
        path = save_json("decode", results, path=args.json or None, goals=goals)
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
