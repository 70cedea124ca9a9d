"""The Runner end to end on DynamoDB Local (one server per session, from the plugin), and on the
fake stream client for shard splits, which DynamoDB Local does not produce on demand."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ddbstream import EmfMetrics, StreamEvent, UsageError
from ddbstream.runner import (
    CheckpointStore,
    EventSourceMapping,
    FailureFolder,
    FailureRecord,
    Runner,
    run,
)

from ._support import ARN, FakeStreams


class Handler:
    def __init__(self, answer: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.answer = answer

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(json.loads(json.dumps(event)))
        self.contexts.append(context)
        return self.answer(event) if callable(self.answer) else self.answer

    def pks(self) -> list[list[str]]:
        return [[r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] for e in self.events]


def write_many(client: Any, table: str, n: int, prefix: str = "k") -> None:
    for start in range(0, n, 25):
        items = [
            {"PutRequest": {"Item": {"pk": {"S": f"{prefix}{i:05d}"}}}}
            for i in range(start, min(n, start + 25))
        ]
        client.batch_write_item(RequestItems={table: items})


def test_events_are_built_like_lambdas(
    make_table: Any, dynamodb_client: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    dynamodb_client.put_item(
        TableName=table.name, Item={"pk": {"S": "a"}, "b": {"B": b"\x00\x01"}, "n": {"N": "1.50"}}
    )
    dynamodb_client.update_item(
        TableName=table.name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "2"}},
    )
    dynamodb_client.delete_item(TableName=table.name, Key={"pk": {"S": "a"}})
    handler = Handler()
    stats = run(
        handler,
        table_name=table.name,
        until_idle=True,
        function_name="orders",
        timeout=6,
        **runner_kwargs,
    )
    (event,) = handler.events
    first, second, third = event["Records"]
    assert [r["eventName"] for r in event["Records"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert list(first) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert first["eventSourceARN"] == table.stream_arn
    assert first["awsRegion"] == "ddblocal"
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], float)
    assert first["dynamodb"]["NewImage"]["b"] == {"B": "AAE="}
    assert first["dynamodb"]["NewImage"]["n"] == {"N": "1.5"}
    assert second["dynamodb"]["OldImage"]["n"] == {"N": "1.5"}
    assert "NewImage" not in third["dynamodb"]
    parsed = StreamEvent.from_lambda(event)
    assert [r.event_name.value for r in parsed] == ["INSERT", "MODIFY", "REMOVE"]
    ctx = handler.contexts[0]
    assert ctx.function_name == "orders"
    assert 0 < ctx.get_remaining_time_in_millis() <= 6000
    assert (stats.records_read, stats.records_succeeded, stats.invocations) == (3, 3, 1)


def test_batch_size_spans_several_get_records_pages(
    make_table: Any, dynamodb_client: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    write_many(dynamodb_client, table.name, 1250)
    handler = Handler()
    run(
        handler,
        table_name=table.name,
        mapping=EventSourceMapping(batch_size=1200),
        until_idle=True,
        **runner_kwargs,
    )
    assert [len(b) for b in handler.pks()] == [1200, 50]
    assert [pk for b in handler.pks() for pk in b] == [f"k{i:05d}" for i in range(1250)]


def test_batch_size_one(make_table: Any, put: Any, runner_kwargs: Any) -> None:
    table = make_table()
    put(table.name, "a", "b", "c")
    handler = Handler()
    run(
        handler,
        table_name=table.name,
        mapping=EventSourceMapping(batch_size=1),
        until_idle=True,
        **runner_kwargs,
    )
    assert handler.pks() == [["a"], ["b"], ["c"]]


def test_batching_window_gathers_records_written_meanwhile(
    make_table: Any, put: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    put(table.name, "a", "b")
    handler = Handler()
    runner = Runner(
        handler,
        table_name=table.name,
        mapping=EventSourceMapping(maximum_batching_window_in_seconds=1),
        **runner_kwargs,
    )
    thread = threading.Thread(target=runner.run, kwargs={"until_idle": True})
    thread.start()
    time.sleep(0.3)
    put(table.name, "c")
    thread.join(30)
    assert handler.pks() == [["a", "b", "c"]]


def test_filter_criteria(
    make_table: Any, put: Any, dynamodb_client: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    put(table.name, "a", "b")
    dynamodb_client.update_item(
        TableName=table.name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET x = :x",
        ExpressionAttributeValues={":x": {"S": "1"}},
    )
    criteria = {"Filters": [{"Pattern": json.dumps({"eventName": ["MODIFY"]})}]}
    handler = Handler()
    stats = run(
        handler,
        table_name=table.name,
        mapping=EventSourceMapping(filter_criteria=criteria),
        until_idle=True,
        **runner_kwargs,
    )
    assert [[r["eventName"] for r in e["Records"]] for e in handler.events] == [["MODIFY"]]
    assert (stats.records_filtered, stats.records_succeeded) == (2, 1)


def test_report_batch_item_failures_with_on_failure_file(
    make_table: Any, put: Any, runner_kwargs: Any, tmp_path: Path
) -> None:
    # LocalStack's AWS-recorded case: BatchSize 3, 6 records, the 6th fails, MaxRetry 3
    table = make_table()
    put(table.name, *"abcdef")

    def answer(event: Any) -> Any:
        bad = [r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"] == "f"]
        return {
            "batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in bad]
        }

    handler = Handler(answer)
    dead = tmp_path / "failed.jsonl"
    mapping = EventSourceMapping(
        batch_size=3, maximum_retry_attempts=3, function_response_types=("ReportBatchItemFailures",)
    )
    stats = run(
        handler,
        table_name=table.name,
        mapping=mapping,
        on_failure=dead,
        until_idle=True,
        **runner_kwargs,
    )
    assert handler.pks() == [["a", "b", "c"], ["d", "e", "f"], ["f"], ["f"], ["f"]]
    (line,) = dead.read_text().splitlines()
    failure = json.loads(line)
    assert failure["requestContext"]["approximateInvokeCount"] == 4
    assert failure["responseContext"]["functionError"] is None
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["DDBStreamBatchInfo"]["streamArn"] == table.stream_arn
    assert failure["DDBStreamBatchInfo"]["shardId"].startswith("shardId-")
    seq_f = handler.events[-1]["Records"][0]["dynamodb"]["SequenceNumber"]
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == seq_f
    assert (stats.records_succeeded, stats.records_failed) == (5, 1)


def test_bisect_and_retries_send_only_the_poison_record(
    make_table: Any, put: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    put(table.name, *"abcd")
    failures: list[dict[str, Any]] = []

    def answer(event: Any) -> Any:
        if any(r["dynamodb"]["Keys"]["pk"]["S"] == "c" for r in event["Records"]):
            raise ValueError("poison")

    handler = Handler(answer)
    mapping = EventSourceMapping(bisect_batch_on_function_error=True, maximum_retry_attempts=1)
    run(
        handler,
        table_name=table.name,
        mapping=mapping,
        on_failure=failures.append,
        until_idle=True,
        **runner_kwargs,
    )
    assert handler.pks() == [["a", "b", "c", "d"], ["a", "b"], ["c", "d"], ["c"], ["c"], ["d"]]
    (failure,) = failures
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_maximum_record_age(make_table: Any, put: Any, runner_kwargs: Any) -> None:
    table = make_table()
    put(table.name, "a", "b")
    failures: list[dict[str, Any]] = []
    handler = Handler()
    later = lambda: time.time() + 3600  # noqa: E731 - an hour from now, the records are old
    mapping = EventSourceMapping(maximum_record_age_in_seconds=60)
    stats = run(
        handler,
        table_name=table.name,
        mapping=mapping,
        on_failure=failures.append,
        clock=later,
        until_idle=True,
        **runner_kwargs,
    )
    assert handler.events == []
    assert [f["requestContext"]["condition"] for f in failures] == ["RecordAgeExceeded"]
    assert failures[0]["DDBStreamBatchInfo"]["batchSize"] == 2
    assert stats.records_failed == 2


def test_parallelization_factor_keeps_item_order(
    make_table: Any, dynamodb_client: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    for version in range(4):
        for key in "abcdef":
            dynamodb_client.put_item(
                TableName=table.name, Item={"pk": {"S": key}, "v": {"N": str(version)}}
            )
    handler = Handler()
    mapping = EventSourceMapping(batch_size=2, parallelization_factor=3)
    run(handler, table_name=table.name, mapping=mapping, until_idle=True, **runner_kwargs)
    records = [r for e in handler.events for r in e["Records"]]
    assert len(records) == 24
    for key in "abcdef":
        versions = [
            r["dynamodb"]["NewImage"]["v"]["N"]
            for r in records
            if r["dynamodb"]["Keys"]["pk"]["S"] == key
        ]
        assert versions == ["0", "1", "2", "3"]
    assert all(len(e["Records"]) <= 2 for e in handler.events)


def test_tumbling_window_carries_state_and_final_invoke(
    make_table: Any, put: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    put(table.name, *"abcde")

    def answer(event: Any) -> Any:
        return {"state": {"n": event["state"].get("n", 0) + len(event["Records"])}}

    handler = Handler(answer)
    mapping = EventSourceMapping(batch_size=2, tumbling_window_in_seconds=120)
    later = lambda: time.time() + 1000  # noqa: E731 - every window has ended
    run(
        handler,
        table_name=table.name,
        mapping=mapping,
        clock=later,
        until_idle=True,
        **runner_kwargs,
    )
    assert [e["state"] for e in handler.events] == [{}, {"n": 2}, {"n": 4}, {"n": 5}]
    assert [e["isFinalInvokeForWindow"] for e in handler.events] == [False, False, False, True]
    assert handler.events[-1]["Records"] == []
    start = handler.events[0]["window"]["start"]
    assert all(e["window"]["start"] == start for e in handler.events)
    created = handler.events[0]["Records"][0]["dynamodb"]["ApproximateCreationDateTime"]
    begin = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created // 120 * 120))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created // 120 * 120 + 120))
    assert handler.events[0]["window"] == {"start": begin, "end": end}
    assert handler.events[0]["shardId"].startswith("shardId-")
    assert handler.events[0]["eventSourceARN"] == table.stream_arn
    assert handler.events[0]["isWindowTerminatedEarly"] is False


def test_tumbling_window_without_state_is_a_failure(
    make_table: Any, put: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    put(table.name, "a")
    failures: list[dict[str, Any]] = []
    handler = Handler({"batchItemFailures": []})
    mapping = EventSourceMapping(tumbling_window_in_seconds=60, maximum_retry_attempts=1)
    run(
        handler,
        table_name=table.name,
        mapping=mapping,
        on_failure=failures.append,
        until_idle=True,
        **runner_kwargs,
    )
    assert len(failures) == 1
    assert failures[0]["responseContext"]["functionError"] is None


def test_checkpoints_resume_after_restart(
    make_table: Any, put: Any, runner_kwargs: Any, tmp_path: Path
) -> None:
    table = make_table()
    db = tmp_path / "checkpoints.sqlite"
    put(table.name, "a", "b")
    first = Handler()
    run(first, table_name=table.name, checkpoint=db, until_idle=True, **runner_kwargs)
    put(table.name, "c")
    second = Handler()
    run(second, table_name=table.name, checkpoint=db, until_idle=True, **runner_kwargs)
    assert (first.pks(), second.pks()) == ([["a", "b"]], [["c"]])
    third = Handler()
    run(third, table_name=table.name, until_idle=True, **runner_kwargs)  # no checkpoint file
    assert third.pks() == [["a", "b", "c"]]


def test_stop_after_the_batch_in_flight_then_resume(
    make_table: Any, put: Any, runner_kwargs: Any, tmp_path: Path
) -> None:
    table = make_table()
    put(table.name, *"abcd")
    db = tmp_path / "cp.sqlite"

    def answer(event: Any) -> Any:
        runner.stop()

    handler = Handler(answer)
    runner = Runner(
        handler,
        table_name=table.name,
        mapping=EventSourceMapping(batch_size=2),
        checkpoint=db,
        **runner_kwargs,
    )
    runner.run()
    assert handler.pks() == [["a", "b"]]
    rest = Handler()
    run(
        rest,
        table_name=table.name,
        mapping=EventSourceMapping(batch_size=2),
        checkpoint=db,
        until_idle=True,
        **runner_kwargs,
    )
    assert rest.pks() == [["c", "d"]]


def test_sigterm_stops_cleanly_and_restores_handlers(
    make_table: Any, put: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    put(table.name, "a", "b")
    before = signal.getsignal(signal.SIGTERM)

    def answer(event: Any) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)  # the signal arrives while this batch is in flight

    handler = Handler(answer)
    stats = run(
        handler, table_name=table.name, mapping=EventSourceMapping(batch_size=1), **runner_kwargs
    )
    assert handler.pks() == [["a"]]
    assert stats.records_succeeded == 1
    assert signal.getsignal(signal.SIGTERM) is before


def test_latest_skips_records_written_before_start(
    make_table: Any, put: Any, runner_kwargs: Any
) -> None:
    table = make_table()
    put(table.name, "old")
    handler = Handler()
    ready = threading.Event()
    runner = Runner(
        handler,
        table_name=table.name,
        mapping=EventSourceMapping(starting_position="LATEST"),
        on_status=lambda s: ready.set(),
        **runner_kwargs,
    )
    thread = threading.Thread(target=runner.run, kwargs={"until_idle": False})
    thread.start()
    try:
        assert ready.wait(20)
        time.sleep(0.3)  # let the shard worker take its LATEST iterator
        put(table.name, "new")
        deadline = time.monotonic() + 20
        while not handler.events and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()
        thread.join(20)
    assert handler.pks() == [["new"]]


def test_by_stream_arn(make_table: Any, put: Any, runner_kwargs: Any) -> None:
    table = make_table()
    put(table.name, "a")
    handler = Handler()
    run(handler, stream_arn=table.stream_arn, until_idle=True, **runner_kwargs)
    assert handler.pks() == [["a"]]


def test_missing_table_and_missing_stream_are_usage_errors(
    make_table: Any, runner_kwargs: Any
) -> None:
    with pytest.raises(UsageError, match="'nope-table'"):
        run(print, table_name="nope-table", until_idle=True, **runner_kwargs)
    plain = make_table(stream_view_type=None)
    with pytest.raises(UsageError, match="has no stream"):
        run(print, table_name=plain.name, until_idle=True, **runner_kwargs)


def test_runner_argument_errors() -> None:
    with pytest.raises(UsageError, match="table_name= or stream_arn="):
        Runner(print)
    with pytest.raises(UsageError, match="callable"):
        Runner("print", table_name="t")  # type: ignore[arg-type]


# -- shard splits on the fake stream client -----------------------------------------------------


def test_split_parent_before_children_and_new_shards_found_while_running() -> None:
    fake = FakeStreams({"a-parent": ["1", "2"]})
    fake.page_size = 100
    order: list[str] = []

    def handler(event: Any, context: Any) -> None:
        order.extend(r["dynamodb"]["SequenceNumber"] for r in event["Records"])
        if order == ["1", "2"]:  # the parent splits while we run
            fake.records["a-parent"].append("3")
            fake.closed.add("a-parent")
            fake.records["b-child"] = ["4", "5"]
            fake.records["c-child"] = ["6"]
            fake.parents.update({"b-child": "a-parent", "c-child": "a-parent"})
            fake.closed.update({"b-child", "c-child"})

    stats = Runner(
        handler, stream_arn=ARN, streams_client=fake, poll_interval=0.01, discovery_interval=0.05
    ).run(until_idle=True)
    assert order[:3] == ["1", "2", "3"]
    assert sorted(order[3:]) == ["4", "5", "6"]
    assert stats.records_succeeded == 6


def test_children_wait_for_a_parent_listed_after_them() -> None:
    fake = FakeStreams({"z-parent": ["1"], "a-child": ["2"]}, parents={"a-child": "z-parent"})
    fake.closed.update({"z-parent", "a-child"})
    fake.page_size = 1
    order: list[str] = []
    Runner(
        lambda e, c: order.extend(r["dynamodb"]["SequenceNumber"] for r in e["Records"]),
        stream_arn=ARN,
        streams_client=fake,
        poll_interval=0.01,
    ).run(until_idle=True)
    assert order == ["1", "2"]


# -- checkpoints are checked against the stream --------------------------------------------------


def test_a_checkpoint_past_the_shard_is_refused_and_reset_recovers(
    make_table: Any, put: Any, runner_kwargs: Any, tmp_path: Path
) -> None:
    table = make_table()
    db = tmp_path / "cp.sqlite"
    put(table.name, "a", "b")
    run(Handler(), table_name=table.name, checkpoint=db, until_idle=True, **runner_kwargs)
    with sqlite3.connect(db) as connection:
        (shard,) = connection.execute("SELECT shard_id FROM checkpoints").fetchall()
    store = CheckpointStore(db)
    store.save(table.stream_arn, shard[0], "000000000099999999999")  # from another server
    store.close()
    put(table.name, "c")
    handler = Handler()
    with pytest.raises(UsageError) as info:
        run(handler, table_name=table.name, checkpoint=db, until_idle=True, **runner_kwargs)
    message = str(info.value)
    assert "SequenceNumber 000000000099999999999" in message
    assert "--reset-checkpoint" in message
    assert str(db) in message
    assert handler.events == []  # never a silent skip
    again = Handler()
    stats = run(
        again,
        table_name=table.name,
        checkpoint=db,
        reset_checkpoint=True,
        until_idle=True,
        **runner_kwargs,
    )
    assert again.pks() == [["a", "b", "c"]]
    assert stats.records_succeeded == 3


def test_a_checkpoint_outside_a_closed_shards_range_is_refused(tmp_path: Path) -> None:
    fake = FakeStreams({"s1": ["1", "2"]})
    fake.closed.add("s1")  # its range is 1..9
    store = CheckpointStore(tmp_path / "cp.db")
    store.save(ARN, "s1", "42")
    store.close()
    runner = Runner(print, stream_arn=ARN, streams_client=fake, checkpoint=tmp_path / "cp.db")
    with pytest.raises(
        UsageError, match=r"SequenceNumber 42, but that is outside the shard's range 1\.\.9"
    ):
        runner.run(until_idle=True)


def test_a_handler_that_mangles_its_event_does_not_move_the_checkpoint(
    make_table: Any, put: Any, runner_kwargs: Any, tmp_path: Path
) -> None:
    table = make_table()
    put(table.name, "a", "b")
    db = tmp_path / "cp.sqlite"

    def mangle(event: dict[str, Any], context: Any) -> None:
        event["Records"][-1]["dynamodb"]["SequenceNumber"] = "000000000099999999999"
        event["Records"][0].pop("dynamodb")
        event["Records"].clear()

    stats = run(mangle, table_name=table.name, checkpoint=db, until_idle=True, **runner_kwargs)
    assert (stats.records_read, stats.records_succeeded) == (2, 2)
    put(table.name, "c")
    later = Handler()
    run(later, table_name=table.name, checkpoint=db, until_idle=True, **runner_kwargs)
    assert later.pks() == [["c"]]


# -- filter criteria are linted at start ----------------------------------------------------------

NUMERIC_ON_N = {"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}}


def test_filter_criteria_with_lint_errors_refuse_to_run(
    make_table: Any, put: Any, runner_kwargs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    table = make_table()
    put(table.name, "a", n=5)
    criteria = {"Filters": [{"Pattern": json.dumps(NUMERIC_ON_N)}]}
    mapping = EventSourceMapping(filter_criteria=criteria)
    handler = Handler()
    with pytest.raises(UsageError, match=r"numeric-on-string.*allow_lint_errors=True") as info:
        run(handler, table_name=table.name, mapping=mapping, until_idle=True, **runner_kwargs)
    assert "\n" not in str(info.value)
    with caplog.at_level(logging.WARNING, logger="ddbstream.runner"):
        stats = run(
            handler,
            table_name=table.name,
            mapping=mapping,
            allow_lint_errors=True,
            until_idle=True,
            **runner_kwargs,
        )
    assert (handler.events, stats.records_filtered) == ([], 1)  # what the linter said
    codes = [r.getMessage() for r in caplog.records if "filter criteria" in r.getMessage()]
    assert any("numeric-on-string" in c for c in codes)
    assert any("drops-remove" in c for c in codes)  # warnings are logged too


# -- a stuck record ends an until_idle run --------------------------------------------------------


def test_until_idle_stops_on_a_stuck_record_without_checkpointing_it(
    make_table: Any, put: Any, runner_kwargs: Any, tmp_path: Path
) -> None:
    table = make_table()
    put(table.name, "a", "poison", "b")
    db = tmp_path / "cp.sqlite"

    def strict(event: Any) -> Any:
        if any(r["dynamodb"]["Keys"]["pk"]["S"] == "poison" for r in event["Records"]):
            raise ValueError("poison")

    handler = Handler(strict)
    stats = run(
        handler,
        table_name=table.name,
        checkpoint=db,
        until_idle=True,
        stuck_after=4,
        **runner_kwargs,
    )
    (stuck,) = stats.stuck
    assert (stuck.records, stuck.attempts, stuck.error) == (3, 4, "ValueError: poison")
    assert len(handler.events) == 4
    assert stats.records_succeeded == 0
    fixed = Handler()
    run(fixed, table_name=table.name, checkpoint=db, until_idle=True, **runner_kwargs)
    assert fixed.pks() == [["a", "poison", "b"]]  # nothing was skipped


# -- destinations and metrics ----------------------------------------------------------------------


def test_failure_folder_and_metrics(
    make_table: Any, put: Any, runner_kwargs: Any, tmp_path: Path
) -> None:
    table = make_table()
    put(table.name, "a", "poison")
    out = io.StringIO()

    def strict(event: Any) -> Any:
        if any(r["dynamodb"]["Keys"]["pk"]["S"] == "poison" for r in event["Records"]):
            raise ValueError("poison")

    stats = run(
        Handler(strict),
        table_name=table.name,
        mapping=EventSourceMapping(bisect_batch_on_function_error=True, maximum_retry_attempts=0),
        on_failure=FailureFolder(tmp_path / "failed"),
        metrics=EmfMetrics(stream=out),
        function_name="orders",
        until_idle=True,
        **runner_kwargs,
    )
    assert (stats.records_succeeded, stats.records_failed) == (1, 1)
    (failure,) = FailureRecord.read(tmp_path / "failed")
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in failure.records or []] == ["poison"]
    assert failure.stream_arn == table.stream_arn
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert (line["component"], line["function"]) == ("runner", "orders")
    assert (line["RecordsIn"], line["RecordsProcessed"], line["RecordsFailed"]) == (2, 1, 1)
