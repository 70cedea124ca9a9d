"""ddbstream.aggregate._dynamodb on DynamoDB Local: exact totals under injected faults for each
strategy, read-modify-write measures, reads retried like writes, keys DynamoDB refuses, two
aggregators on one table, a hot group written concurrently, and the sink's configuration."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _delivery import Crash
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

from ._ddb import FAST, FIXTURES, B, invoice, totals, where
from ._faults import Faults
from ._simulate import deliver, histories


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
        "Group", {"Total": Sum("Amount"), "Count": Count()}, where=where, sink=sink
    )
    faults = Faults(dynamodb_client, data, budget)
    try:
        deliver(data, history.records, aggregator.handle, lanes=data.draw(st.integers(1, 2)))
    finally:
        faults.close()
    assert aggregator.snapshot() == history.expected(where)


@pytest.mark.parametrize("ledger", ["group", "ledger"])
def test_a_total_beyond_38_digits_fails_only_the_records_of_its_group(
    dynamodb_client: Any, tables: Any, ledger: str
) -> None:
    chosen = GroupLedger() if ledger == "group" else Ledger(table=tables("pk"))
    aggregator = totals(DynamoDBSink(tables(), key="Group", ledger=chosen, client=dynamodb_client))
    big = Decimal("9" * 38)
    assert aggregator.apply(B.lambda_event(B.insert(invoice("1", big)))).ok
    result = aggregator.apply(
        B.lambda_event(B.insert(invoice("2", Decimal("0.5"))), B.insert(invoice("3", 1, "B")))
    )
    assert len(result.failed) == 1
    assert isinstance(result.errors[0], AggregationError)
    assert "38 digits" in str(result.errors[0])  # DynamoDB's own words: the sum is its to make
    assert aggregator.snapshot() == {"A": {"Total": big}, "B": {"Total": Decimal(1)}}


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
    aggregator = totals(sink, **measures)
    first = B.lambda_event(B.insert(invoice("1", 5)), B.insert(invoice("2", 9)))
    assert aggregator.apply(first).ok
    second = B.lambda_event(B.insert(invoice("3", 7)), B.insert(invoice("4", 2)))
    assert aggregator.apply(second).ok
    assert aggregator.apply(second).ok  # redelivered
    assert aggregator.snapshot() == {
        "A": {"Total": Decimal(23), "Top": Decimal(9), "Low": Decimal(2), "Last": "4"}
    }
    item = dynamodb_client.get_item(TableName=target, Key={"Group": {"S": "A"}})["Item"]
    assert item["Top"] == {"N": "9"}
    assert item["Last"] == {"S": "4"}  # the plain value; its order is bookkeeping
    assert "_latest_Last" in item
    fresh = totals(
        DynamoDBSink(target, key="Group", ledger=chosen, client=dynamodb_client), **measures
    )
    assert fresh.apply(B.lambda_event(B.insert(invoice("5", 1)))).ok  # reads what it never saw
    assert fresh.snapshot()["A"]["Low"] == Decimal(1)
    shrink = B.lambda_event(B.modify(invoice("2", 9), invoice("2", 1)))
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
    aggregator = totals(sink, Top=Max("Amount"))
    assert aggregator.apply(B.lambda_event(B.insert(invoice("1", 5)))).ok
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
            B.lambda_event(B.insert(invoice("2", 8)), B.insert(invoice("3", 1)))
        )
    finally:
        dynamodb_client.meta.events.unregister(f"before-call.dynamodb.{operation}", race)
    assert result.ok
    assert aggregator.snapshot() == {"A": {"Top": Decimal(50)}}


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
    aggregator = totals(
        DynamoDBSink(target, key="Group", client=dynamodb_client, retry=FAST), Top=Max("Amount")
    )
    event = B.lambda_event(B.insert(invoice("1", 5)))
    if operation == "GetItem":  # a lost answer after the write landed: the retry reads back
        assert aggregator.apply(event).ok
        event = B.lambda_event(B.insert(invoice("2", 7)))
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
    aggregator = totals(sink)
    assert aggregator.apply(B.lambda_event(B.insert(invoice("1", 5)))).ok
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
        totals(sink).handle(B.lambda_event(B.insert(invoice("1", 5))), None)
    with pytest.raises(UsageError, match="ResourceNotFoundException"):
        totals(sink).snapshot()


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
    aggregator = totals(sinks[sink_kind]())
    good, empty, later = (
        B.insert(invoice("1", 5)),
        B.insert(invoice("2", 7, group="")),
        B.insert(invoice("3", 1, group="B")),
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
    aggregator = totals(sink)
    result = aggregator.apply(
        B.lambda_event(B.insert(invoice("1", 5)), B.insert(invoice("2", 7, group="bad")))
    )
    assert len(result.failed) == 1
    assert "empty string" in str(result.errors[0])
    assert aggregator.snapshot() == {("A",): {"Total": Decimal(5)}}


def test_two_aggregators_on_one_stream_and_one_table_are_both_exact(
    dynamodb_client: Any, tables: Any
) -> None:
    target = tables()
    for ledger in (GroupLedger(), Ledger()):
        sums = totals(DynamoDBSink(target, key="Group", ledger=ledger, client=dynamodb_client))
        counts = totals(
            DynamoDBSink(target, key="Group", ledger=ledger, client=dynamodb_client), N=Count()
        )
        event = B.lambda_event(B.insert(invoice("1", 5)), B.insert(invoice("2", 7)))
        for _ in range(2):  # and redelivered
            assert sums.handle(event, None) == {"batchItemFailures": []}
            assert counts.handle(event, None) == {"batchItemFailures": []}
        assert sums.snapshot() == {"A": {"Total": Decimal(12)}}
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
        aggregator = totals(sink, Total=Sum("Amount"), Top=Max("Amount"))
        builder = builders[n]
        records = [builder.insert(invoice(f"{n}-{i}", i + 1)) for i in range(20)]
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
    assert totals(sink, Total=Sum("Amount"), Top=Max("Amount")).snapshot() == {
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
    result = totals(sink).apply(B.lambda_event(B.insert(invoice("1", 100))))
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
        totals(DynamoDBSink("Totals", key="Group", client=client)).apply(
            B.lambda_event(B.insert(invoice("1", 100)))
        )
    assert client.calls == 1


def test_a_replay_from_an_earlier_checkpoint_is_dropped_by_the_watermarks(
    dynamodb_client: Any, tables: Any
) -> None:
    aggregator = totals(DynamoDBSink(tables(), key="Group", client=dynamodb_client))
    first, second = B.insert(invoice("1", 100)), B.insert(invoice("2", 300))
    third = B.modify(invoice("1", 100), invoice("1", 150))
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
    aggregator = totals(DynamoDBSink(tables(), key="Group", ledger=chosen, client=dynamodb_client))
    window = {"start": "2024-06-10T06:10:00Z", "end": "2024-06-10T06:15:00Z"}
    rows = [B.insert(invoice(str(i), i, "AB"[i % 2])) for i in range(10)]
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
    from _delivery import play
    from ddbstream.testing.strategies import change_histories, deliveries

    from ._kit import GROUPED_ITEMS, expected_from, kit_aggregator

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
