"""The ddbstream demo (``make demo``): the tutorials end to end on a real DynamoDB Local.

1. The invoice tutorial's ``InvoiceTransactions`` table with a NEW_AND_OLD_IMAGES stream: write
   its transactions (ABC 100 + 300, then a modify and a delete), read the real stream and print
   the decoded, typed records.
2. Each example that ships a ``run_demo(dynamodb, streams)`` in its ``handler.py`` or a
   ``demo.py`` beside it (invoice totals, score totals, user fan-out, welcome email) runs
   through its handler and prints the tables as the tutorials show them.

DynamoDB Local is started for you (set ``DDBSTREAM_DYNAMODB_ENDPOINT`` to reuse a running one).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ddbstream import StreamEvent
from ddbstream.testing._local import DynamoDBLocal
from ddbstream.testing._streams import read_stream

EXAMPLES = Path(__file__).resolve().parent


class Transaction(BaseModel):
    """An item of the invoice tutorial's ``InvoiceTransactions`` table."""

    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal
    InvoiceDate: str


@contextmanager
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    endpoint = os.environ.get("DDBSTREAM_DYNAMODB_ENDPOINT")
    if endpoint:
        yield DynamoDBLocal.connect(endpoint)
        return
    print("starting DynamoDB Local ...", flush=True)
    with DynamoDBLocal() as local:
        yield local


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "-+-".join("-" * w for w in widths)
    out = [line, " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)), line]
    out += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)) for r in rows]
    return "\n".join([*out, line])


def stream_records_act(dynamodb: Any, streams: Any) -> str:
    name = "DemoInvoiceTransactions"
    existing = dynamodb.list_tables()["TableNames"]
    if name in existing:
        dynamodb.delete_table(TableName=name)
        dynamodb.get_waiter("table_not_exists").wait(TableName=name)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "InvoiceNumber", "KeyType": "HASH"},
            {"AttributeName": "TransactionId", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "InvoiceNumber", "AttributeType": "S"},
            {"AttributeName": "TransactionId", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name)

    def put(invoice: str, txn: str, amount: str, date: str) -> None:
        dynamodb.put_item(
            TableName=name,
            Item={
                "InvoiceNumber": {"S": invoice},
                "TransactionId": {"S": txn},
                "Amount": {"N": amount},
                "InvoiceDate": {"S": date},
            },
        )

    put("ABC", "T1", "100", "2024-06-10")
    put("ABC", "T2", "300", "2024-06-10")
    put("DEF", "T1", "12.25", "2024-06-11")
    put("ABC", "T1", "150", "2024-06-12")  # a modify
    dynamodb.delete_item(
        TableName=name, Key={"InvoiceNumber": {"S": "ABC"}, "TransactionId": {"S": "T2"}}
    )
    records = read_stream(streams, table_name=name)
    event = StreamEvent.from_lambda({"Records": records}, model=Transaction)
    rows = []
    for record in event:
        old, new = record.old, record.new
        rows.append(
            [
                record.sequence_number,
                record.event_name.value,
                f"{record.keys['InvoiceNumber']}/{record.keys['TransactionId']}",
                "" if old is None else repr(old.Amount),
                "" if new is None else repr(new.Amount),
                ", ".join(sorted(record.changed_attributes())),
            ]
        )
    header = ["SequenceNumber", "eventName", "Keys", "Old Amount", "New Amount", "changed"]
    return f"Stream of {name} ({len(records)} records, decoded and typed):\n" + table(rows, header)


def example_acts() -> list[tuple[str, Any]]:
    acts = []
    for folder in sorted(path.parent for path in EXAMPLES.glob("*/handler.py")):
        # An example's run_demo lives in its handler.py, or in a demo.py beside it (when the
        # handler file is shown verbatim in a tutorial page).
        path = folder / "demo.py" if (folder / "demo.py").exists() else folder / "handler.py"
        module = _load(path, folder)
        if hasattr(module, "run_demo"):
            acts.append((folder.name, module.run_demo))
    return acts


def _load(path: Path, folder: Path) -> Any:
    """Import ``path`` with its folder first on ``sys.path`` (a demo.py imports its handler)."""
    for name in ("handler", "demo"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(f"demo_{folder.name}", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(folder))


def main() -> int:
    started = time.perf_counter()
    with dynamodb_local() as local:
        os.environ.update(local.env())
        dynamodb, streams = local.client(), local.streams_client()
        print(stream_records_act(dynamodb, streams), end="\n\n", flush=True)
        for name, run_demo in example_acts():
            print(f"== examples/{name}", flush=True)
            print(run_demo(dynamodb, streams), end="\n\n", flush=True)
    print(f"demo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
