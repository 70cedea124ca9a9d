"""ddbstream.aggregate._dynamodb on DynamoDB Local: exact totals with the ledger strategy under
injected faults (throttling before the write, a lost response after it landed, a crash between
transactions), overflow as an error, ledger items in the sink's own table, request shapes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddbstream import AggregationError, UsageError
from ddbstream.aggregate import (
    Aggregator,
    Count,
    DynamoDBSink,
    GroupLedger,
    Latest,
    Ledger,
    Max,
    Min,
    Retry,
    Sum,
)
from ddbstream.testing import EventBuilder

from ._faults import Faults
from ._simulate import deliver, histories

FAST = Retry(attempts=4, base=0.0)


def _where(image: Any) -> bool:
    return image["Status"] == "ok"


@pytest.fixture
def tables(dynamodb_client: Any) -> Iterator[Any]:
    created: list[str] = []

    def make(key: str = "Group", *, sort_key: str | None = None) -> str:
        name = f"agg-{uuid.uuid4().hex[:10]}"
        schema = [{"AttributeName": key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": key, "AttributeType": "S"}]
        if sort_key:
            schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": sort_key, "AttributeType": "S"})
        dynamodb_client.create_table(
            TableName=name,
            KeySchema=schema,
            AttributeDefinitions=attrs,
            BillingMode="PAY_PER_REQUEST",
        )
        created.append(name)
        return name

    yield make
    for name in created:
        dynamodb_client.delete_table(TableName=name)


@settings(max_examples=16, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=histories(max_ops=20), data=st.data(), budget=st.integers(0, 8))
def test_totals_are_exact_on_dynamodb_local_under_faults(
    dynamodb_client: Any, tables: Any, history: Any, data: st.DataObject, budget: int
) -> None:
    strategy = data.draw(st.sampled_from(("ledger", "group")), label="strategy")
    sink = DynamoDBSink(
        tables(),
        key="Group",
        ledger=Ledger(table=tables("pk")) if strategy == "ledger" else GroupLedger(max_items=3),
        client=dynamodb_client,
        max_actions=data.draw(st.sampled_from((3, 5, 100)), label="max_actions"),
        retry=FAST,
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"],
        where=_where,
        measures={"Total": Sum("Amount"), "Count": Count()},
        sink=sink,
    )
    faults = Faults(dynamodb_client, data, budget)
    try:
        deliver(data, history.records, aggregator.handle, lanes=data.draw(st.integers(1, 2)))
    finally:
        faults.close()
    assert aggregator.snapshot() == history.expected(_where)


def _invoice(tid: str, amount: Any, group: str = "A") -> dict[str, Any]:
    return {"TransactionId": tid, "Group": group, "Amount": amount, "Status": "ok"}


def test_one_request_per_batch_and_the_ledger_shape(dynamodb_client: Any, tables: Any) -> None:
    target, ledger = tables(), tables("pk")
    sink = DynamoDBSink(
        target,
        key="Group",
        updated_attribute="UpdateDate",
        ledger=Ledger(table=ledger),
        client=dynamodb_client,
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    records = [b.insert(_invoice(str(i), Decimal("0.10"), "AB"[i % 2])) for i in range(50)]
    faults = Faults(dynamodb_client, None, 0)
    try:
        result = aggregator.apply(b.lambda_event(records))
    finally:
        faults.close()
    assert result.ok
    assert result.transactions == 1
    assert faults.calls == 1
    item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
    assert item["Total"] == {"N": "2.5"}
    assert item["UpdateDate"]["S"].endswith("Z")
    marks = dynamodb_client.scan(TableName=ledger)["Items"]
    assert len(marks) == 50
    seqs = {m["seq"]["S"] for m in marks}
    assert all(len(s) == 40 and s.isdigit() for s in seqs)
    assert {int(s) for s in seqs} == {int(r["dynamodb"]["SequenceNumber"]) for r in records}
    assert all(int(m["expires"]["N"]) > 0 for m in marks)


def test_overflow_beyond_38_digits_fails_the_batch_and_rounds_nothing(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    sink = DynamoDBSink(
        target, key="Group", ledger=Ledger(table=tables("pk")), client=dynamodb_client
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    big = Decimal("9" * 38)
    assert aggregator.apply(b.lambda_event(b.insert(_invoice("1", big)))).ok
    result = aggregator.apply(
        b.lambda_event(b.insert(_invoice("2", Decimal("0.5"))), b.insert(_invoice("3", 1, "B")))
    )
    assert not result.ok
    assert isinstance(result.errors[0], AggregationError)
    assert "38" in str(result.errors[0])
    assert aggregator.snapshot() == {"A": {"Total": big}, "B": {"Total": Decimal(1)}}
    assert len(result.failed) == 1


def test_ledger_items_in_the_sink_table_are_not_totals(dynamodb_client: Any, tables: Any) -> None:
    target = tables("PK", sort_key="SK")
    sink = DynamoDBSink(
        target,
        key=lambda user: {"PK": f"USER#{user}", "SK": "TOTAL"},
        ledger=Ledger(sort_key="SK"),
        client=dynamodb_client,
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    event = b.lambda_event(b.insert(_invoice("1", 3)), b.insert(_invoice("2", 4)))
    assert aggregator.apply(event).ok
    assert aggregator.apply(event).ok  # the same transaction again: its token absorbs it
    items = dynamodb_client.scan(TableName=target)["Items"]
    assert sorted(i["PK"]["S"].split("#")[0] for i in items) == ["LEDGER", "LEDGER", "USER"]
    assert aggregator.snapshot() == {("USER#A", "TOTAL"): {"Total": Decimal(7)}}


def test_min_max_latest_are_read_combined_and_written_back(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    sink = DynamoDBSink(
        target, key="Group", ledger=Ledger(table=tables("pk")), client=dynamodb_client
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"],
        measures={
            "Total": Sum("Amount"),
            "Top": Max("Amount"),
            "Low": Min("Amount"),
            "Last": Latest("TransactionId"),
        },
        sink=sink,
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    first = b.lambda_event(b.insert(_invoice("1", 5)), b.insert(_invoice("2", 9)))
    assert aggregator.apply(first).ok
    second = b.lambda_event(b.insert(_invoice("3", 7)), b.insert(_invoice("4", 2)))
    assert aggregator.apply(second).ok
    assert aggregator.apply(second).ok  # redelivered
    assert aggregator.snapshot() == {
        "A": {"Total": Decimal(23), "Top": Decimal(9), "Low": Decimal(2), "Last": "4"}
    }
    item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
    assert item["Top"] == {"N": "9"}
    shrink = b.lambda_event(b.modify(_invoice("2", 9), _invoice("2", 1)))
    result = aggregator.apply(shrink)
    assert not result.ok
    assert "append-only" in str(result.errors[0])


def test_a_concurrent_change_of_a_stored_max_is_retried(dynamodb_client: Any, tables: Any) -> None:
    target = tables()
    sink = DynamoDBSink(
        target, key="Group", ledger=Ledger(table=tables("pk")), client=dynamodb_client, retry=FAST
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Top": Max("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    assert aggregator.apply(b.lambda_event(b.insert(_invoice("1", 5)))).ok
    raced = []

    def race(**_: Any) -> None:  # another writer sets a larger max after our read
        if not raced:
            raced.append(1)
            dynamodb_client.update_item(
                TableName=target,
                Key={"Group": {"S": "A"}},
                UpdateExpression="SET Top = :v",
                ExpressionAttributeValues={":v": {"N": "50"}},
            )

    dynamodb_client.meta.events.register("before-call.dynamodb.TransactWriteItems", race)
    try:
        result = aggregator.apply(
            b.lambda_event(b.insert(_invoice("2", 8)), b.insert(_invoice("3", 1)))
        )
    finally:
        dynamodb_client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", race)
    assert result.ok
    assert aggregator.snapshot() == {"A": {"Top": Decimal(50)}}


def test_transactions_on_disjoint_groups_land_concurrently_and_exactly(
    dynamodb_client: Any, tables: Any
) -> None:
    sink = DynamoDBSink(
        tables(),
        key="Group",
        ledger=Ledger(table=tables("pk")),
        client=dynamodb_client,
        max_actions=10,
        concurrency=4,
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    event = b.lambda_event([b.insert(_invoice(str(i), i, f"G{i % 10}")) for i in range(40)])
    first = aggregator.apply(event)
    assert first.ok
    assert first.transactions >= 5  # 10 groups + 40 watermarks, 10 actions per transaction
    # redelivered: identical transactions are absorbed by their ClientRequestToken, the others
    # (a chunk planned differently around the new record) by the watermarks
    extra = b.insert(_invoice("40", 1000, "G0"))
    assert aggregator.apply(b.lambda_event([*event["Records"], extra])).ok
    assert aggregator.apply(event).ok
    assert aggregator.snapshot() == {
        f"G{g}": {"Total": Decimal(sum(range(g, 40, 10)) + (1000 if g == 0 else 0))}
        for g in range(10)
    }


def test_repr_is_the_constructor() -> None:
    assert repr(DynamoDBSink("T", key="K", ledger=Ledger(table="L"))) == (
        "DynamoDBSink('T', key='K', ledger=Ledger(table='L'))"
    )
    assert (
        repr(DynamoDBSink("T", key="K", ledger=None)) == "DynamoDBSink('T', key='K', ledger=None)"
    )
    assert repr(DynamoDBSink("T", key="K", concurrency=4)) == (
        "DynamoDBSink('T', key='K', concurrency=4)"
    )


def test_the_default_client_leaves_validation_to_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    # A table name botocore would refuse (< 3 characters) reaches the (absent) server: the
    # default client does not validate, so the write fails as unanswered, not as a UsageError.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    sink = DynamoDBSink("ab", key="Group", ledger=Ledger(table="cd"), retry=Retry(attempts=1))
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    result = aggregator.apply(b.lambda_event(b.insert(_invoice("1", 100))))
    assert sink.client is sink.client
    assert len(result.failed) == 1
    assert "did not answer" in str(result.errors[0])


def test_a_request_refused_by_a_validating_client_is_a_usage_error_not_retried() -> None:
    from botocore.exceptions import ParamValidationError

    class Refusing:
        calls = 0

        def transact_write_items(self, **_: Any) -> None:
            self.calls += 1
            raise ParamValidationError(report="Invalid length for parameter TableName")

    client = Refusing()
    sink = DynamoDBSink("Totals", key="Group", ledger=Ledger(table="L"), client=client)
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    with pytest.raises(UsageError, match="botocore refused"):
        aggregator.apply(b.lambda_event(b.insert(_invoice("1", 100))))
    assert client.calls == 1


def test_a_replay_from_an_earlier_checkpoint_is_dropped_by_the_watermarks(
    dynamodb_client: Any, tables: Any
) -> None:
    sink = DynamoDBSink(
        tables(), key="Group", ledger=Ledger(table=tables("pk")), client=dynamodb_client
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    first, second = b.insert(_invoice("1", 100)), b.insert(_invoice("2", 300))
    old = {**_invoice("1", 100)}
    third = b.modify(old, {**old, "Amount": 150})
    assert aggregator.apply(b.lambda_event(first, second)).ok
    result = aggregator.apply(b.lambda_event(first, second, third))
    assert result.ok
    assert result.duplicates == 2
    assert aggregator.snapshot() == {"A": {"Total": Decimal(450)}}


def test_group_ledger_keeps_watermarks_in_the_total_items(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    sink = DynamoDBSink(target, key="Group", ledger=GroupLedger(), client=dynamodb_client)
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    a1, a2 = _invoice("1", 100), _invoice("2", 300)
    moved = {**a2, "Group": "B"}
    first = [b.insert(a1), b.insert(a2)]
    second = [*first, b.modify(a2, moved), b.remove(a1)]
    assert aggregator.apply(b.lambda_event(first)).transactions == 1
    result = aggregator.apply(b.lambda_event(second))
    assert result.ok
    assert result.duplicates == 2
    assert aggregator.snapshot() == {"B": {"Total": Decimal(300)}}
    items = {i["Group"]["S"]: i for i in dynamodb_client.scan(TableName=target)["Items"]}
    assert sorted(k for k in items["A"] if k.startswith("wm_")) != []
    assert len([k for k in items["B"] if k.startswith("wm_")]) == 1
    assert items["A"]["Total"] == {"N": "0"}


def test_a_tumbling_window_is_written_once_per_shard_and_window(
    dynamodb_client: Any, tables: Any
) -> None:
    sink = DynamoDBSink(
        tables(), key="Group", ledger=Ledger(table=tables("pk")), client=dynamodb_client
    )
    aggregator = Aggregator(
        group_by=lambda i: i["Group"], measures={"Total": Sum("Amount")}, sink=sink
    )
    b = EventBuilder("Transactions", keys=("TransactionId",))
    window = {"start": "2024-06-10T06:10:00Z", "end": "2024-06-10T06:15:00Z"}
    rows = [b.insert(_invoice(str(i), i, "AB"[i % 2])) for i in range(10)]
    state = aggregator.handle(b.tumbling_window_event(rows, **window), None)["state"]
    assert aggregator.snapshot() == {}
    final = b.tumbling_window_event([], state=state, final=True, **window)
    for _ in range(2):  # the final invoke retried: written once
        assert aggregator.handle(final, None) == {"state": {}, "batchItemFailures": []}
    assert aggregator.snapshot() == {"A": {"Total": Decimal(20)}, "B": {"Total": Decimal(25)}}


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_totals_are_exact_on_dynamodb_local_through_testing_kit_schedules(
    dynamodb_client: Any, tables: Any, data: st.DataObject
) -> None:
    from ddbstream.testing import change_histories, deliveries

    from ._kit import GROUPED_ITEMS, expected_from, kit_aggregator, play
    from ._simulate import Crash

    history = data.draw(
        change_histories(
            keys=st.sampled_from([{"pk": k} for k in "abcd"]),
            attributes=GROUPED_ITEMS,
            max_changes=16,
        )
    )
    schedule = data.draw(
        deliveries(
            history.records, parallelization_factor=data.draw(st.integers(1, 2)), max_faults=5
        )
    )
    ledger = data.draw(st.sampled_from([Ledger(table=tables("pk")), GroupLedger(max_items=2)]))
    sink = DynamoDBSink(
        tables("g"),
        key="g",
        ledger=ledger,
        client=dynamodb_client,
        max_actions=4,
        concurrency=data.draw(st.sampled_from((1, 3)), label="concurrency"),
    )
    armed: list[int | None] = [None]

    def before(**_: Any) -> None:
        if armed[0] == 0:
            armed[0] = None
            raise Crash("before any write")

    def after(**_: Any) -> None:
        if armed[0] is not None:
            armed[0] -= 1
            if armed[0] == 0:
                armed[0] = None
                raise Crash("after the armed number of landed writes")

    def arm(writes: int | None) -> None:
        armed[0] = writes

    events = dynamodb_client.meta.events
    hooks = [
        (f"{when}-call.dynamodb.{op}", fn)
        for when, fn in (("before", before), ("after", after))
        for op in ("TransactWriteItems", "UpdateItem")
    ]
    for name, fn in hooks:
        events.register(name, fn)
    try:
        aggregator = kit_aggregator(sink)
        play(schedule, aggregator.handle, arm)
    finally:
        for name, fn in hooks:
            events.unregister(name, fn)
    assert aggregator.snapshot() == expected_from(history.final_table)
