"""ddbstream.aggregate._dynamodb on DynamoDB Local: exact totals under injected faults for each
strategy (watermarks in the group items, in ledger items, none), the requests each one sends,
DynamoDB's own limits, read-modify-write measures, stale watermarks, and reads retried like
writes."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddbstream import AggregationError, TransientError, UsageError
from ddbstream.aggregate import (
    Aggregator,
    Count,
    DynamoDBSink,
    GroupLedger,
    Latest,
    Ledger,
    Max,
    MemorySink,
    Min,
    Retry,
    Sum,
)
from ddbstream.testing import EventBuilder

from ._faults import Faults
from ._simulate import Crash, deliver, histories

FAST = Retry(attempts=4, base=0.0)
FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
B = EventBuilder("Transactions", keys=("TransactionId",))


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


def _invoice(tid: str, amount: Any, group: str = "A") -> dict[str, Any]:
    return {"TransactionId": tid, "Group": group, "Amount": amount, "Status": "ok"}


def _totals(sink: Any, **measures: Any) -> Aggregator:
    return Aggregator("Group", measures or {"Total": Sum("Amount")}, sink=sink)


@FIXTURES
@given(history=histories(max_ops=16), data=st.data(), budget=st.integers(0, 6))
def test_totals_are_exact_on_dynamodb_local_under_faults(
    dynamodb_client: Any, tables: Any, history: Any, data: st.DataObject, budget: int
) -> None:
    strategy = data.draw(st.sampled_from(("group", "ledger")), label="strategy")
    sink = DynamoDBSink(
        tables(),
        key="Group",
        ledger=Ledger(table=tables("pk")) if strategy == "ledger" else GroupLedger(max_items=2),
        client=dynamodb_client,
        max_actions=data.draw(st.sampled_from((2, 5, 100)), label="max_actions"),
        retry=FAST,
    )
    aggregator = Aggregator(
        "Group", {"Total": Sum("Amount"), "Count": Count()}, where=_where, sink=sink
    )
    faults = Faults(dynamodb_client, data, budget)
    try:
        deliver(data, history.records, aggregator.handle, lanes=data.draw(st.integers(1, 2)))
    finally:
        faults.close()
    assert aggregator.snapshot() == history.expected(_where)


def test_one_conditional_update_per_touched_group_and_the_watermarks_in_it(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    sink = DynamoDBSink(target, key="Group", updated_attribute="UpdateDate", client=dynamodb_client)
    aggregator = _totals(sink)
    records = [B.insert(_invoice(str(i), Decimal("0.10"), "AB"[i % 2])) for i in range(50)]
    faults = Faults(dynamodb_client, None, 0)
    try:
        result = aggregator.apply(B.lambda_event(records))
    finally:
        faults.close()
    assert result.ok
    assert result.writes == 2
    assert faults.sent == ["UpdateItem", "UpdateItem"]  # no transaction, no ledger item
    item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
    assert item["Total"] == {"N": "2.5"}
    assert item["UpdateDate"]["S"].endswith("Z")
    marks = [name for name in item if name.startswith("_w")]
    assert len(marks) == 25
    assert all(isinstance(item[name]["B"], bytes) for name in marks)
    assert {n for n in item if not n.startswith("_")} == {"Group", "Total", "UpdateDate"}


def test_the_ledger_strategy_writes_ledger_items_in_one_transaction(
    dynamodb_client: Any, tables: Any
) -> None:
    target, ledger = tables(), tables("pk")
    sink = DynamoDBSink(target, key="Group", ledger=Ledger(table=ledger), client=dynamodb_client)
    aggregator = _totals(sink)
    records = [B.insert(_invoice(str(i), Decimal("0.10"), "AB"[i % 2])) for i in range(40)]
    faults = Faults(dynamodb_client, None, 0)
    try:
        assert aggregator.apply(B.lambda_event(records)).ok
    finally:
        faults.close()
    assert faults.sent == ["TransactWriteItems"]  # 2 groups + 40 watermarks: one transaction
    marks = dynamodb_client.scan(TableName=ledger)["Items"]
    assert len(marks) == 40
    seqs = {m["seq"]["S"] for m in marks}
    assert all(len(s) == 40 and s.isdigit() for s in seqs)
    assert {int(s) for s in seqs} == {int(r["dynamodb"]["SequenceNumber"]) for r in records}
    assert all(int(m["expires"]["N"]) > 0 for m in marks)
    item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
    assert set(item) == {"Group", "Total"}


@pytest.mark.parametrize("ledger", ["group", "ledger"])
def test_a_total_beyond_38_digits_fails_only_the_records_of_its_group(
    dynamodb_client: Any, tables: Any, ledger: str
) -> None:
    chosen = GroupLedger() if ledger == "group" else Ledger(table=tables("pk"))
    aggregator = _totals(DynamoDBSink(tables(), key="Group", ledger=chosen, client=dynamodb_client))
    big = Decimal("9" * 38)
    assert aggregator.apply(B.lambda_event(B.insert(_invoice("1", big)))).ok
    result = aggregator.apply(
        B.lambda_event(B.insert(_invoice("2", Decimal("0.5"))), B.insert(_invoice("3", 1, "B")))
    )
    assert len(result.failed) == 1
    assert isinstance(result.errors[0], AggregationError)
    assert "38 digits" in str(result.errors[0])  # DynamoDB's own words: the sum is its to make
    assert aggregator.snapshot() == {"A": {"Total": big}, "B": {"Total": Decimal(1)}}


def test_ledger_items_in_the_sink_table_are_not_totals(dynamodb_client: Any, tables: Any) -> None:
    target = tables("PK", sort_key="SK")
    sink = DynamoDBSink(
        target,
        key=lambda user: {"PK": f"USER#{user}", "SK": "TOTAL"},
        ledger=Ledger(sort_key="SK"),
        client=dynamodb_client,
    )
    aggregator = _totals(sink)
    event = B.lambda_event(B.insert(_invoice("1", 3)), B.insert(_invoice("2", 4)))
    assert aggregator.apply(event).ok
    assert aggregator.apply(event).ok  # the same transaction again: its token absorbs it
    items = dynamodb_client.scan(TableName=target)["Items"]
    assert sorted(i["PK"]["S"].split("#")[0] for i in items) == ["LEDGER", "LEDGER", "USER"]
    assert aggregator.snapshot() == {("USER#A", "TOTAL"): {"Total": Decimal(7)}}


@pytest.mark.parametrize("ledger", ["group", "ledger"])
def test_min_max_latest_are_combined_with_what_is_stored(
    dynamodb_client: Any, tables: Any, ledger: str
) -> None:
    target = tables()
    chosen = GroupLedger() if ledger == "group" else Ledger(table=tables("pk"))
    sink = DynamoDBSink(target, key="Group", ledger=chosen, client=dynamodb_client)
    measures = {
        "Total": Sum("Amount"),
        "Top": Max("Amount"),
        "Low": Min("Amount"),
        "Last": Latest("TransactionId"),
    }
    aggregator = _totals(sink, **measures)
    first = B.lambda_event(B.insert(_invoice("1", 5)), B.insert(_invoice("2", 9)))
    assert aggregator.apply(first).ok
    second = B.lambda_event(B.insert(_invoice("3", 7)), B.insert(_invoice("4", 2)))
    assert aggregator.apply(second).ok
    assert aggregator.apply(second).ok  # redelivered
    assert aggregator.snapshot() == {
        "A": {"Total": Decimal(23), "Top": Decimal(9), "Low": Decimal(2), "Last": "4"}
    }
    item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
    assert item["Top"] == {"N": "9"}
    assert item["Last"] == {"S": "4"}  # the plain value; its order is bookkeeping
    assert "_latest_Last" in item
    fresh = _totals(
        DynamoDBSink(target, key="Group", ledger=chosen, client=dynamodb_client), **measures
    )
    assert fresh.apply(B.lambda_event(B.insert(_invoice("5", 1)))).ok  # reads what it never saw
    assert fresh.snapshot()["A"]["Low"] == Decimal(1)
    shrink = B.lambda_event(B.modify(_invoice("2", 9), _invoice("2", 1)))
    result = aggregator.apply(shrink)
    assert not result.ok
    assert "append-only" in str(result.errors[0])


@pytest.mark.parametrize("ledger", ["group", "ledger"])
def test_a_concurrent_change_of_a_stored_max_is_retried(
    dynamodb_client: Any, tables: Any, ledger: str
) -> None:
    target = tables()
    chosen = GroupLedger() if ledger == "group" else Ledger(table=tables("pk"))
    sink = DynamoDBSink(target, key="Group", ledger=chosen, client=dynamodb_client, retry=FAST)
    aggregator = _totals(sink, Top=Max("Amount"))
    assert aggregator.apply(B.lambda_event(B.insert(_invoice("1", 5)))).ok
    raced: list[int] = []

    def race(**_: Any) -> None:  # another writer sets a larger max after this one looked
        if not raced:
            raced.append(1)
            dynamodb_client.update_item(
                TableName=target,
                Key={"Group": {"S": "A"}},
                UpdateExpression="SET Top = :v",
                ExpressionAttributeValues={":v": {"N": "50"}},
            )

    operation = "UpdateItem" if ledger == "group" else "TransactWriteItems"
    dynamodb_client.meta.events.register(f"before-call.dynamodb.{operation}", race)
    try:
        result = aggregator.apply(
            B.lambda_event(B.insert(_invoice("2", 8)), B.insert(_invoice("3", 1)))
        )
    finally:
        dynamodb_client.meta.events.unregister(f"before-call.dynamodb.{operation}", race)
    assert result.ok
    assert aggregator.snapshot() == {"A": {"Top": Decimal(50)}}


def test_group_writes_carry_as_many_watermarks_as_dynamodb_accepts(
    dynamodb_client: Any, tables: Any
) -> None:
    # 100 watermark conditions (3 operators each) fill DynamoDB's 300-operator limit: checked
    # against DynamoDB Local, not assumed. A read-modify-write measure takes two operators, so
    # the write then carries 99 and the 100th item goes to a second write.
    records = [B.insert(_invoice(f"{i:03}", 1)) for i in range(100)]
    wide = DynamoDBSink(
        tables(), key="Group", ledger=GroupLedger(max_items=100), client=dynamodb_client
    )
    result = _totals(wide).apply(B.lambda_event(records))
    assert result.ok
    assert result.writes == 1
    with_max = DynamoDBSink(
        tables(), key="Group", ledger=GroupLedger(max_items=100), client=dynamodb_client
    )
    aggregator = _totals(with_max, Total=Sum("Amount"), Top=Max("Amount"))
    assert with_max.lanes_per_write(aggregator.spec) == 99
    result = aggregator.apply(B.lambda_event(records))
    assert result.ok
    assert result.writes == 2
    assert aggregator.snapshot() == {"A": {"Total": Decimal(100), "Top": Decimal(1)}}
    with pytest.raises(UsageError, match="300 operators"):
        GroupLedger(max_items=101)


def test_watermarks_older_than_a_day_go_in_later_writes_of_their_group(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    now = [dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc)]
    sink = DynamoDBSink(target, key="Group", client=dynamodb_client, clock=lambda: now[0])
    aggregator = _totals(sink)
    assert aggregator.apply(B.lambda_event([B.insert(_invoice(str(i), 1)) for i in range(5)])).ok

    def marks() -> set[str]:
        item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
        return {name for name in item if name.startswith("_w")}

    old = marks()
    assert len(old) == 5
    now[0] += dt.timedelta(hours=24)
    assert aggregator.apply(B.lambda_event(B.insert(_invoice("10", 1)))).ok
    assert old < marks()  # a day old: they may still cover a redelivery
    now[0] += dt.timedelta(hours=2)
    assert aggregator.apply(B.lambda_event(B.insert(_invoice("11", 1)))).ok
    assert not old & marks()
    assert len(marks()) == 2
    assert aggregator.snapshot() == {"A": {"Total": Decimal(7)}}


def test_a_stale_watermark_rewritten_meanwhile_is_not_deleted(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    now = [dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc)]
    sink = DynamoDBSink(
        target, key="Group", client=dynamodb_client, clock=lambda: now[0], retry=FAST
    )
    aggregator = _totals(sink)
    first = B.insert(_invoice("1", 1))
    assert aggregator.apply(B.lambda_event(first)).ok
    now[0] += dt.timedelta(hours=30)
    # another container applies a new record of the same item: its watermark is fresh again
    other = _totals(DynamoDBSink(target, key="Group", client=dynamodb_client, clock=lambda: now[0]))
    newer = B.modify(_invoice("1", 1), _invoice("1", 4))
    assert other.apply(B.lambda_event(newer)).ok
    assert aggregator.apply(B.lambda_event(B.insert(_invoice("2", 10)))).ok
    assert aggregator.apply(B.lambda_event(newer)).duplicates == 1  # its watermark is still there
    assert aggregator.snapshot() == {"A": {"Total": Decimal(14)}}


@pytest.mark.parametrize(
    ("operation", "code", "expected"),
    [
        ("BatchGetItem", "ThrottlingException", "ok"),
        ("BatchGetItem", "AccessDeniedException", UsageError),
        ("GetItem", "ProvisionedThroughputExceededException", "ok"),
    ],
)
def test_reads_are_retried_and_mapped_like_writes(
    dynamodb_client: Any, tables: Any, operation: str, code: str, expected: Any
) -> None:
    target = tables()
    aggregator = _totals(
        DynamoDBSink(target, key="Group", client=dynamodb_client, retry=FAST), Top=Max("Amount")
    )
    event = B.lambda_event(B.insert(_invoice("1", 5)))
    if operation == "GetItem":  # a lost answer after the write landed: the retry reads back
        assert aggregator.apply(event).ok
        event = B.lambda_event(B.insert(_invoice("2", 7)))
        script = ["after:fault", "before:fault"]
        faults = Faults(
            dynamodb_client, None, 0, script=script, operations=("UpdateItem", "GetItem"), code=code
        )
    else:
        faults = Faults(
            dynamodb_client, None, 0, script=["before:fault"], operations=(operation,), code=code
        )
    try:
        if expected == "ok":
            assert aggregator.apply(event).ok
        else:
            with pytest.raises(expected, match=code):
                aggregator.apply(event)
    finally:
        faults.close()


def test_snapshot_reads_are_retried(dynamodb_client: Any, tables: Any) -> None:
    sink = DynamoDBSink(
        tables("PK", sort_key="SK"),
        key=lambda user: {"PK": user, "SK": "TOTAL"},
        client=dynamodb_client,
        retry=FAST,
    )
    aggregator = _totals(sink)
    assert aggregator.apply(B.lambda_event(B.insert(_invoice("1", 5)))).ok
    faults = Faults(
        dynamodb_client,
        None,
        0,
        script=["before:fault", "before:fault"],
        operations=("Scan", "DescribeTable"),
    )
    try:
        assert aggregator.snapshot() == {("A", "TOTAL"): {"Total": Decimal(5)}}
    finally:
        faults.close()


def test_an_unreadable_table_is_a_usage_error_not_a_botocore_error(dynamodb_client: Any) -> None:
    sink = DynamoDBSink("no-such-table", key="Group", client=dynamodb_client)
    with pytest.raises(UsageError, match="ResourceNotFoundException"):
        _totals(sink).handle(B.lambda_event(B.insert(_invoice("1", 5))), None)
    with pytest.raises(UsageError, match="ResourceNotFoundException"):
        _totals(sink).snapshot()


def test_at_least_once_counts_every_delivery_even_of_equal_deltas(
    dynamodb_client: Any, tables: Any
) -> None:
    # Two different batches with the same deltas must both count: no request token may take the
    # second for a retry of the first (the at-least-once mode used to lose increments so).
    aggregator = _totals(DynamoDBSink(tables(), key="Group", ledger=None, client=dynamodb_client))
    for tid in ("1", "2", "1"):
        assert aggregator.handle(B.lambda_event(B.insert(_invoice(tid, 5))), None) == {
            "batchItemFailures": []
        }
    assert aggregator.snapshot() == {"A": {"Total": Decimal(15)}}


def test_transactions_with_equal_deltas_of_different_records_both_land(
    dynamodb_client: Any, tables: Any
) -> None:
    aggregator = _totals(
        DynamoDBSink(
            tables(), key="Group", ledger=Ledger(table=tables("pk")), client=dynamodb_client
        )
    )
    for tid in ("1", "2"):
        assert aggregator.apply(B.lambda_event(B.insert(_invoice(tid, 5)))).ok
    assert aggregator.snapshot() == {"A": {"Total": Decimal(10)}}


@pytest.mark.parametrize("sink_kind", ["memory", "dynamodb", "dynamodb-key-function"])
def test_an_empty_string_group_fails_alone_with_the_same_verdict_from_every_sink(
    dynamodb_client: Any, tables: Any, sink_kind: str
) -> None:
    sinks: dict[str, Any] = {
        "memory": lambda: MemorySink(),
        "dynamodb": lambda: DynamoDBSink(tables(), key="Group", client=dynamodb_client),
        "dynamodb-key-function": lambda: DynamoDBSink(
            tables(), key=lambda g: {"Group": g}, client=dynamodb_client
        ),
    }
    aggregator = _totals(sinks[sink_kind]())
    good, empty, later = (
        B.insert(_invoice("1", 5)),
        B.insert(_invoice("2", 7, group="")),
        B.insert(_invoice("3", 1, group="B")),
    )
    result = aggregator.apply(B.lambda_event(good, empty, later))
    assert result.failed == (empty["dynamodb"]["SequenceNumber"],)
    assert "empty string" in str(result.errors[0])
    snapshot = {(g[0] if isinstance(g, tuple) else g): v for g, v in aggregator.snapshot().items()}
    assert snapshot == {"A": {"Total": Decimal(5)}, "B": {"Total": Decimal(1)}}


def test_a_key_dynamodb_refuses_fails_the_records_of_that_group_alone(
    dynamodb_client: Any, tables: Any
) -> None:
    sink = DynamoDBSink(
        tables(), key=lambda g: {"Group": "" if g == "bad" else g}, client=dynamodb_client
    )
    aggregator = _totals(sink)
    result = aggregator.apply(
        B.lambda_event(B.insert(_invoice("1", 5)), B.insert(_invoice("2", 7, group="bad")))
    )
    assert len(result.failed) == 1
    assert "empty string" in str(result.errors[0])
    assert aggregator.snapshot() == {("A",): {"Total": Decimal(5)}}


def test_two_aggregators_on_one_stream_and_one_table_are_both_exact(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    for ledger in (GroupLedger(), Ledger()):
        totals = _totals(DynamoDBSink(target, key="Group", ledger=ledger, client=dynamodb_client))
        counts = _totals(
            DynamoDBSink(target, key="Group", ledger=ledger, client=dynamodb_client), N=Count()
        )
        event = B.lambda_event(B.insert(_invoice("1", 5)), B.insert(_invoice("2", 7)))
        for _ in range(2):  # and redelivered
            assert totals.handle(event, None) == {"batchItemFailures": []}
            assert counts.handle(event, None) == {"batchItemFailures": []}
        assert totals.snapshot() == {"A": {"Total": Decimal(12)}}
        assert counts.snapshot() == {"A": {"N": Decimal(2)}}
        target = tables()


@pytest.mark.parametrize("ledger", ["group", "ledger"])
def test_a_hot_group_written_by_concurrent_invocations_loses_and_doubles_nothing(
    dynamodb_client: Any, tables: Any, ledger: str
) -> None:
    target = tables()
    chosen = GroupLedger() if ledger == "group" else Ledger(table=tables("pk"))
    builders = [EventBuilder(f"Shard{n}", keys=("TransactionId",)) for n in range(4)]
    retry = Retry(attempts=30, base=0.01, cap=0.2)

    def invocation(n: int) -> None:  # one shard's Lambda: its own client and container
        sink = DynamoDBSink(target, key="Group", ledger=chosen, client=dynamodb_client, retry=retry)
        aggregator = _totals(sink, Total=Sum("Amount"), Top=Max("Amount"))
        builder = builders[n]
        records = [builder.insert(_invoice(f"{n}-{i}", i + 1)) for i in range(20)]
        for start in range(0, 20, 5):
            batch = builder.lambda_event(records[start : start + 5])
            assert aggregator.handle(batch, None) == {"batchItemFailures": []}
            assert aggregator.handle(batch, None) == {"batchItemFailures": []}  # redelivered

    threads = [threading.Thread(target=invocation, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink = DynamoDBSink(target, key="Group", ledger=chosen, client=dynamodb_client)
    assert _totals(sink, Total=Sum("Amount"), Top=Max("Amount")).snapshot() == {
        "A": {"Total": Decimal(4 * sum(range(1, 21))), "Top": Decimal(20)}
    }


def test_repr_is_the_constructor() -> None:
    assert repr(DynamoDBSink("T", key="K", ledger=Ledger(table="L"))) == (
        "DynamoDBSink('T', key='K', ledger=Ledger(table='L'))"
    )
    assert (
        repr(DynamoDBSink("T", key="K", ledger=None)) == "DynamoDBSink('T', key='K', ledger=None)"
    )
    assert repr(DynamoDBSink("T", key="K", concurrency=4, max_actions=10)) == (
        "DynamoDBSink('T', key='K', max_actions=10, concurrency=4)"
    )
    for bad in ({"max_actions": 1}, {"concurrency": 0}, {"ledger": "x"}, {"key": 3}):
        with pytest.raises(UsageError):
            DynamoDBSink("T", **{"key": "K", **bad})


def test_the_default_client_leaves_validation_to_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    # A table name botocore would refuse (< 3 characters) reaches the (absent) server: the
    # default client does not validate, so the write fails as unanswered, not as a UsageError.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    sink = DynamoDBSink("ab", key="Group", retry=Retry(attempts=1))
    result = _totals(sink).apply(B.lambda_event(B.insert(_invoice("1", 100))))
    assert sink.client is sink.client
    assert len(result.failed) == 1
    assert isinstance(result.errors[0], TransientError)
    assert "EndpointConnectionError" in str(result.errors[0])


def test_a_request_refused_by_a_validating_client_is_a_usage_error_not_retried() -> None:
    from botocore.exceptions import ParamValidationError

    class Refusing:
        calls = 0

        def update_item(self, **_: Any) -> None:
            self.calls += 1
            raise ParamValidationError(report="Invalid length for parameter TableName")

    client = Refusing()
    with pytest.raises(UsageError, match="refused"):
        _totals(DynamoDBSink("Totals", key="Group", client=client)).apply(
            B.lambda_event(B.insert(_invoice("1", 100)))
        )
    assert client.calls == 1


def test_a_replay_from_an_earlier_checkpoint_is_dropped_by_the_watermarks(
    dynamodb_client: Any, tables: Any
) -> None:
    aggregator = _totals(DynamoDBSink(tables(), key="Group", client=dynamodb_client))
    first, second = B.insert(_invoice("1", 100)), B.insert(_invoice("2", 300))
    third = B.modify(_invoice("1", 100), _invoice("1", 150))
    assert aggregator.apply(B.lambda_event(first, second)).ok
    result = aggregator.apply(B.lambda_event(first, second, third))
    assert result.ok
    assert result.duplicates == 2
    assert aggregator.snapshot() == {"A": {"Total": Decimal(450)}}


@pytest.mark.parametrize("ledger", ["group", "ledger"])
def test_a_tumbling_window_is_written_once_per_shard_and_window(
    dynamodb_client: Any, tables: Any, ledger: str
) -> None:
    chosen = GroupLedger() if ledger == "group" else Ledger(table=tables("pk"))
    aggregator = _totals(DynamoDBSink(tables(), key="Group", ledger=chosen, client=dynamodb_client))
    window = {"start": "2024-06-10T06:10:00Z", "end": "2024-06-10T06:15:00Z"}
    rows = [B.insert(_invoice(str(i), i, "AB"[i % 2])) for i in range(10)]
    state = aggregator.handle(B.tumbling_window_event(rows, **window), None)["state"]
    assert aggregator.snapshot() == {}
    final = B.tumbling_window_event([], state=state, final=True, **window)
    for _ in range(2):  # the final invoke retried: written once
        assert aggregator.handle(final, None) == {"state": {}, "batchItemFailures": []}
    assert aggregator.snapshot() == {"A": {"Total": Decimal(20)}, "B": {"Total": Decimal(25)}}


@FIXTURES
@given(data=st.data())
def test_totals_are_exact_on_dynamodb_local_through_testing_kit_schedules(
    dynamodb_client: Any, tables: Any, data: st.DataObject
) -> None:
    from ddbstream.testing import change_histories, deliveries

    from ._kit import GROUPED_ITEMS, expected_from, kit_aggregator, play

    history = data.draw(
        change_histories(
            keys=st.sampled_from([{"pk": k} for k in "abcd"]),
            attributes=GROUPED_ITEMS,
            max_changes=16,
        )
    )
    schedule = data.draw(
        deliveries(
            history.records, parallelization_factor=data.draw(st.integers(1, 3)), max_faults=5
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
