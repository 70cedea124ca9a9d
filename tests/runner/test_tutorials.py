"""The product-log, user-fanout and welcome-email tutorials, run through the runner on DynamoDB
Local with injected redelivery: each batch is processed, then its first invocation fails after
the side effects (Lambda redelivers it), and finally the whole stream is replayed."""

from __future__ import annotations

import importlib.util
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ddbstream.runner import EventSourceMapping, run
from once._faults import PutFaults

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAST = {"poll_interval": 0.02, "retry_delay": 0.0}


def load(relative: str) -> ModuleType:
    path = EXAMPLES / relative
    spec = importlib.util.spec_from_file_location(f"tutorial_{path.parent.name}_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def redelivering(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Run the handler, then fail the first invocation of each batch after its side effects."""
    seen: set[tuple[str, ...]] = set()

    def wrapped(event: dict[str, Any], context: Any) -> Any:
        response = handler(event, context)
        batch = tuple(r["eventID"] for r in event["Records"])
        if batch not in seen:
            seen.add(batch)
            raise RuntimeError("crashed after the side effects")
        return response

    return wrapped


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=table)["Items"], key=lambda i: sorted(i.items()).__repr__())


def test_product_log(
    make_table: Any, dynamodb_client: Any, dynamodb_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    api = load("product_log/api.py")
    handler = load("product_log/handler.py").handler
    table = make_table(key_schema=[{"AttributeName": "ProductId", "KeyType": "HASH"}])
    api.add_product(dynamodb_client, "p1", "Tea", Decimal("3.50"), table=table.name)
    api.add_product(dynamodb_client, "p2", "Mug", Decimal(8), table=table.name)
    api.change_price(dynamodb_client, "p1", Decimal("4.25"), table=table.name)
    api.remove_product(dynamodb_client, "p2", table=table.name)
    with caplog.at_level(logging.INFO, logger="product_log"):
        run(
            redelivering(handler),
            table_name=table.name,
            endpoint_url=dynamodb_endpoint,
            until_idle=True,
            **FAST,
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "product_log"]
    unique = list(dict.fromkeys(lines))
    assert [line.split(" (eventID")[0] for line in unique] == [
        "product p1: added 'Tea' at 3.5",
        "product p2: added 'Mug' at 8",
        "product p1: Price 3.5 -> 4.25",
        "product p2: removed",
    ]
    assert set(Counter(lines).values()) == {
        2
    }  # every line repeated by the redelivery, same eventID


def test_user_fanout(
    make_table: Any, dynamodb_client: Any, dynamodb_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load("user_fanout/handlers.py")
    module.dynamodb.cache_clear()
    users = make_table(key_schema=[{"AttributeName": "UserId", "KeyType": "HASH"}])
    audit = make_table(
        key_schema=[
            {"AttributeName": "UserId", "KeyType": "HASH"},
            {"AttributeName": "Seq", "KeyType": "RANGE"},
        ],
        stream_view_type=None,
    )
    search = make_table(
        key_schema=[{"AttributeName": "UserId", "KeyType": "HASH"}], stream_view_type=None
    )
    monkeypatch.setenv("USER_AUDIT_TABLE", audit.name)
    monkeypatch.setenv("USER_SEARCH_TABLE", search.name)

    def user(uid: str, name: str, email: str) -> None:
        dynamodb_client.put_item(
            TableName=users.name,
            Item={"UserId": {"S": uid}, "Name": {"S": name}, "Email": {"S": email}},
        )

    user("u1", "Ann", "ann@example.com")
    user("u2", "Bob", "bob@example.com")
    for n in range(12):  # more than one batch of 10
        user("u1", f"Ann {n}", "ann@example.com")
    user("u2", "Bob", "bob@new.example.com")
    user("u3", "Cy", "cy@example.com")  # an INSERT: filtered out
    mapping = EventSourceMapping(
        filter_criteria=module.FILTER_CRITERIA, batch_size=module.BATCH_SIZE
    )
    for consumer in (module.audit_handler, module.search_handler):
        stats = run(
            redelivering(consumer), table_name=users.name, mapping=mapping, until_idle=True, **FAST
        )
        assert stats.records_filtered == 3
        run(
            consumer, table_name=users.name, mapping=mapping, until_idle=True, **FAST
        )  # full replay
    entries = scan(dynamodb_client, audit.name)
    assert Counter(e["UserId"]["S"] for e in entries) == {"u1": 12, "u2": 1}
    assert all(e["Changed"]["L"] for e in entries)
    projection = {
        i["UserId"]["S"]: (i["Name"]["S"], i["Email"]["S"])
        for i in scan(dynamodb_client, search.name)
    }
    assert projection == {"u1": ("Ann 11", "ann@example.com"), "u2": ("Bob", "bob@new.example.com")}


@pytest.mark.parametrize("parallelization_factor", [1, 3])
def test_welcome_email_exactly_once(
    dynamodb_client: Any,
    dynamodb_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    parallelization_factor: int,
) -> None:
    module = load("welcome_email/handler.py")
    suffix = uuid.uuid4().hex[:8]
    users, outbox = f"Users-{suffix}", f"Outbox-{suffix}"
    monkeypatch.setenv("USERS_TABLE", users)
    monkeypatch.setenv("OUTBOX_TABLE", outbox)
    module.create_tables(dynamodb_client)
    module.create_tables(dynamodb_client)  # again: nothing changes

    def put(uid: str, email: str | None, name: str = "N") -> None:
        item = {"UserId": {"S": uid}, "Name": {"S": name}}
        if email is not None:
            item["Email"] = {"S": email}
        dynamodb_client.put_item(TableName=users, Item=item)

    put("u1", "u1@example.com", "Ann")
    put("u2", "u2@example.com", "Bob")
    put("u1", "u1@example.com", "Ann B")  # a MODIFY: no new message
    put("u3", None)  # no email on its INSERT: no message, even when one is added later
    put("u3", "u3@example.com")
    put("u4", "first@example.com")
    dynamodb_client.delete_item(TableName=users, Key={"UserId": {"S": "u4"}})
    put("u4", "second@example.com")  # created again: not welcomed twice
    for n in range(5, 12):
        put(f"u{n}", f"u{n}@example.com")
    mapping = EventSourceMapping(
        filter_criteria=module.FILTER_CRITERIA,
        function_response_types=("ReportBatchItemFailures",),
        batch_size=3,
        parallelization_factor=parallelization_factor,
    )
    module.dynamodb.cache_clear()
    script = ["throttle"] * 8 + ["lost", "throttle", "lost"]  # 8: past the retries, it fails
    faults = PutFaults(module.dynamodb(), script)
    try:
        run(redelivering(module.handler), table_name=users, mapping=mapping, until_idle=True,
            **FAST)  # fmt: skip
    finally:
        faults.close()
    assert faults.script == []  # every fault was met: a record failed, a write's answer was lost
    run(module.handler, table_name=users, mapping=mapping, until_idle=True, **FAST)  # replay
    messages = {m["MessageId"]["S"]: m["To"]["S"] for m in scan(dynamodb_client, outbox)}
    expected = {f"welcome#u{n}": f"u{n}@example.com" for n in (1, 2, *range(5, 12))}
    assert messages == {**expected, "welcome#u4": "first@example.com"}
    dynamodb_client.delete_table(TableName=users)
    dynamodb_client.delete_table(TableName=outbox)
