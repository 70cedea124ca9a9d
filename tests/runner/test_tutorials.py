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
from ddbstream.testing import read_stream
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


def _user_fanout_tables(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    names = {
        "USERS_TABLE": f"Users-{suffix}",
        "USER_SEARCH_TABLE": f"UserSearch-{suffix}",
        "USER_AUDIT_TABLE": f"UserAudit-{suffix}",
    }
    for variable, name in names.items():
        monkeypatch.setenv(variable, name)
    return names


def _search_copy(client: Any, table: str) -> dict[str, dict[str, str]]:
    out = {}
    for item in scan(client, table):
        assert all(not n.startswith("_") or n == "_version" for n in item), item
        out[item["UserId"]["S"]] = {n: v["S"] for n, v in item.items() if not n.startswith("_")}
    return out


@pytest.mark.parametrize("parallelization_factor", [1, 3])
def test_user_fanout(
    dynamodb_client: Any,
    dynamodbstreams_client: Any,
    dynamodb_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    parallelization_factor: int,
) -> None:
    module = load("user_fanout/handler.py")
    names = _user_fanout_tables(monkeypatch)
    module.create_tables(dynamodb_client)
    module.create_tables(dynamodb_client)  # idempotent
    users = names["USERS_TABLE"]

    def user(uid: str, name: str, email: str) -> None:
        dynamodb_client.put_item(
            TableName=users,
            Item={
                "UserId": {"S": uid},
                "Name": {"S": name},
                "Email": {"S": email},
                "Age": {"N": "1"},
            },
        )

    def delete(uid: str) -> None:
        dynamodb_client.delete_item(TableName=users, Key={"UserId": {"S": uid}})

    user("u1", "Ann", "ann@example.com")
    user("u2", "Bob", "bob@example.com")
    for n in range(12):  # more than one batch of 10
        user("u1", f"Ann {n}", "ann@example.com")
    user("u2", "Bob", "bob@new.example.com")
    user("u3", "Cy", "cy@example.com")
    delete("u3")  # deleted: no search item
    user("u4", "Di", "di@example.com")
    delete("u4")
    user("u4", "Di again", "di2@example.com")  # deleted and created again
    delete("u2")
    mapping = EventSourceMapping(
        filter_criteria=module.FILTER_CRITERIA,
        batch_size=module.BATCH_SIZE,
        function_response_types=("ReportBatchItemFailures",),
        parallelization_factor=parallelization_factor,
    )
    run(redelivering(module.handler), table_name=users, mapping=mapping, until_idle=True, **FAST)
    run(module.handler, table_name=users, mapping=mapping, until_idle=True, **FAST)  # replay
    records = read_stream(dynamodbstreams_client, table_name=users)
    for end in range(1, len(records)):  # late, partial replays: older records after newer ones
        assert module.handler({"Records": records[:end]}, None) == {"batchItemFailures": []}
    source = {
        i["UserId"]["S"]: {n: i[n]["S"] for n in ("UserId", "Name", "Email")}
        for i in scan(dynamodb_client, users)
    }
    assert _search_copy(dynamodb_client, names["USER_SEARCH_TABLE"]) == source
    assert set(source) == {"u1", "u4"}

    audit_mapping = EventSourceMapping(
        filter_criteria=module.AUDIT_FILTER_CRITERIA, batch_size=module.BATCH_SIZE
    )
    stats = run(
        redelivering(module.audit_handler),
        table_name=users,
        mapping=audit_mapping,
        until_idle=True,
        **FAST,
    )
    assert stats.records_filtered > 0
    entries = scan(dynamodb_client, names["USER_AUDIT_TABLE"])
    assert Counter(e["UserId"]["S"] for e in entries) == {"u1": 12, "u2": 1}


def test_the_old_user_fanout_module_still_imports_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="handler.py"):
        module = load("user_fanout/handlers.py")
    assert callable(module.search_handler)
    assert callable(module.audit_handler)


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
