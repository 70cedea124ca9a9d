"""Invocation semantics of the event source mapping, on synthetic records (no server)."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import pytest

from ddbstream import BatchSummary
from ddbstream.runner import EventSourceMapping, RunnerStats
from ddbstream.runner._config import LocalFunction
from ddbstream.runner._invoke import Invoker

from ._support import STREAM_ARN, rec


def seqs(batch: list[dict[str, Any]]) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for r in batch]


class Recorder:
    """A handler that records each event and answers from a script (callable per call)."""

    def __init__(self, answer: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.answer = answer
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self.lock:
            self.events.append(json.loads(json.dumps(event)))
            self.contexts.append(context)
        return self.answer(event) if callable(self.answer) else self.answer

    @property
    def batches(self) -> list[list[int]]:
        return [seqs(e["Records"]) for e in self.events]


def make(
    handler: Any, *, timeout: float = 3.0, **settings: Any
) -> tuple[Invoker, list[dict[str, Any]], RunnerStats]:
    failures: list[dict[str, Any]] = []
    stats = RunnerStats()
    invoker = Invoker(
        handler,
        EventSourceMapping(**settings),
        stream_arn=STREAM_ARN,
        send_failure=lambda failure: failures.append(failure.to_dict()),
        stats=stats,
        function=LocalFunction(
            name="fn", timeout=timeout, region="us-east-1", account_id="123456789012"
        ),
        retry_delay=0.0,
    )
    return invoker, failures, stats


RBIF = {"function_response_types": ("ReportBatchItemFailures",)}
BATCH = [rec(i) for i in range(1, 5)]


# -- batches -------------------------------------------------------------------------------


def test_six_megabyte_payload_limit() -> None:
    big = [rec(i, blob="x" * 400_000) for i in range(1, 41)]  # ~16 MB of records
    handler = Recorder()
    invoker, _, _ = make(handler, batch_size=10_000)
    assert invoker.process("s", big)
    assert sum(len(e["Records"]) for e in handler.events) == 40
    for event in handler.events:
        assert len(json.dumps(event, separators=(",", ":"))) <= 6 * 1024 * 1024


# -- retries, bisect, on-failure -------------------------------------------------------------


def test_function_error_retries_then_on_failure_record() -> None:
    def boom(event: Any) -> Any:
        raise RuntimeError("bad")

    handler = Recorder(boom)
    invoker, failures, stats = make(handler, maximum_retry_attempts=2, batch_size=10)
    assert invoker.process("shardId-1", BATCH)
    assert handler.batches == [[1, 2, 3, 4]] * 3
    (failure,) = failures
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert (
        failure["requestContext"]["functionArn"]
        == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    )
    assert failure["requestContext"]["requestId"] == handler.contexts[-1].aws_request_id
    assert failure["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    info = failure["DDBStreamBatchInfo"]
    assert info == {
        "shardId": "shardId-1",
        "startSequenceNumber": "000000000000000000001",
        "endSequenceNumber": "000000000000000000004",
        "approximateArrivalOfFirstRecord": "2023-11-14T22:13:20Z",
        "approximateArrivalOfLastRecord": "2023-11-14T22:13:20Z",
        "batchSize": 4,
        "streamArn": STREAM_ARN,
    }
    assert list(failure) == [
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
    ]
    assert failure["version"] == "1.0"
    assert failure["timestamp"].endswith("Z")
    assert (stats.records_failed, stats.records_succeeded, stats.function_errors) == (4, 0, 3)


def test_partial_failure_retries_from_lowest_and_consumes_retries() -> None:
    # the AWS-recorded case: the 6th record always fails, MaxRetry=3 -> 4 invokes, then
    # an on-failure record for the failing tail only, with functionError null
    records = [rec(i) for i in range(1, 7)]

    def answer(event: Any) -> Any:
        failing = [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"].endswith("6")]
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failing
            ]
        }

    handler = Recorder(answer)
    invoker, failures, stats = make(handler, batch_size=3, maximum_retry_attempts=3, **RBIF)
    assert invoker.process("s", records)
    assert handler.batches == [[1, 2, 3], [4, 5, 6], [6], [6], [6]]
    (failure,) = failures
    assert failure["requestContext"]["approximateInvokeCount"] == 4
    assert failure["responseContext"]["functionError"] is None
    info = failure["DDBStreamBatchInfo"]
    assert (info["batchSize"], info["startSequenceNumber"], info["endSequenceNumber"]) == (
        1,
        "000000000000000000006",
        "000000000000000000006",
    )
    assert (stats.records_succeeded, stats.records_failed) == (5, 1)


def test_partial_failure_retries_successful_later_records_too() -> None:
    calls = {"n": 0}

    def answer(event: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return {
                "batchItemFailures": [
                    {"itemIdentifier": "000000000000000000003"},
                    {"itemIdentifier": "000000000000000000002"},
                ]
            }
        return None

    handler = Recorder(answer)
    invoker, failures, _ = make(handler, batch_size=10, **RBIF)
    assert invoker.process("s", BATCH)
    assert handler.batches == [[1, 2, 3, 4], [2, 3, 4]]
    assert failures == []


def test_bisect_isolates_the_bad_record_without_consuming_retries() -> None:
    def answer(event: Any) -> Any:
        if any(r["dynamodb"]["SequenceNumber"].endswith("3") for r in event["Records"]):
            raise ValueError("poison")

    handler = Recorder(answer)
    records = [rec(i) for i in range(1, 9)]
    invoker, failures, stats = make(
        handler, batch_size=8, bisect_batch_on_function_error=True, maximum_retry_attempts=0
    )
    assert invoker.process("s", records)
    assert handler.batches == [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [1, 2, 3, 4],
        [1, 2],
        [3, 4],
        [3],
        [4],
        [5, 6, 7, 8],
    ]
    (failure,) = failures
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == "000000000000000000003"
    assert (stats.records_succeeded, stats.records_failed) == (7, 1)


def test_retries_get_pristine_records() -> None:
    def answer(event: Any) -> Any:
        for record in event["Records"]:
            record["dynamodb"]["Keys"] = "mangled"
        raise RuntimeError

    seen: list[Any] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append(event["Records"][0]["dynamodb"]["Keys"])
        return answer(event)

    invoker, _, _ = make(handler, maximum_retry_attempts=1)
    invoker.process("s", [rec(1)])
    assert seen == [{"pk": {"S": "a"}}, {"pk": {"S": "a"}}]


def test_unserialisable_response_is_a_function_error() -> None:
    handler = Recorder(lambda e: {"batchItemFailures": object()})
    invoker, failures, stats = make(handler, maximum_retry_attempts=0, **RBIF)
    invoker.process("s", BATCH)
    assert stats.function_errors == 1
    assert failures[0]["responseContext"]["functionError"] == "Unhandled"


def test_record_age_exceeded_goes_to_on_failure_before_invoking() -> None:
    handler = Recorder()
    invoker, failures, stats = make(handler, maximum_record_age_in_seconds=60)
    invoker.clock = lambda: 1_700_000_100.0
    old = [rec(1, t=1_700_000_000.0), rec(2, t=1_700_000_030.0)]
    fresh = [rec(3, t=1_700_000_090.0)]
    assert invoker.process("s", old + fresh)
    assert handler.batches == [[3]]
    (failure,) = failures
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 2
    assert (stats.records_failed, stats.records_succeeded) == (2, 1)


def test_filtered_records_count_as_processed() -> None:
    handler = Recorder()
    criteria = {"Filters": [{"Pattern": json.dumps({"dynamodb": {"Keys": {"pk": {"S": ["b"]}}}})}]}
    invoker, _, stats = make(handler, filter_criteria=criteria)
    assert invoker.process("s", [rec(1, "a"), rec(2, "b"), rec(3, "a")])
    assert handler.batches == [[2]]
    assert (stats.records_filtered, stats.records_succeeded) == (2, 1)


def test_parallelization_keeps_order_per_item() -> None:
    lock = threading.Lock()
    in_flight = [0, 0]  # now, most at once

    def answer(event: Any) -> Any:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        time.sleep(0.02)
        with lock:
            in_flight[0] -= 1

    handler = Recorder(answer)
    records = [rec(i, f"k{i % 5}") for i in range(1, 101)]
    invoker, _, stats = make(handler, batch_size=3, parallelization_factor=4)
    try:
        assert invoker.process("s", records)
    finally:
        invoker.close()
    assert stats.records_succeeded == 100
    delivered = [r for e in handler.events for r in e["Records"]]
    assert sorted(seqs(delivered)) == list(range(1, 101))
    for key in {f"k{i}" for i in range(5)}:
        order = [
            int(r["dynamodb"]["SequenceNumber"])
            for e in handler.events
            for r in e["Records"]
            if r["dynamodb"]["Keys"]["pk"]["S"] == key
        ]
        assert order == sorted(order)
    assert in_flight[1] > 1  # lanes ran concurrently


def test_context_counts_down_from_timeout() -> None:
    handler = Recorder()
    invoker, _, _ = make(handler, timeout=5.0)
    invoker.process("s", [rec(1)])
    ctx = handler.contexts[0]
    assert ctx.function_name == "fn"
    assert ctx.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert 0 < ctx.get_remaining_time_in_millis() <= 5000
    assert len(ctx.aws_request_id) == 36


def test_handler_past_its_timeout_is_a_function_error() -> None:
    invoker, failures, stats = make(
        lambda e, c: time.sleep(0.05), timeout=0.01, maximum_retry_attempts=0
    )
    invoker.process("s", [rec(1)])
    assert stats.function_errors == 1
    assert len(failures) == 1


def test_stop_request_abandons_infinite_retries() -> None:
    def boom(event: Any, context: Any) -> Any:
        invoker.stopping.set()
        raise RuntimeError

    invoker, failures, _ = make(boom)
    assert invoker.process("s", [rec(1)]) is False
    assert failures == []


# -- whatever the handler does (issue 11): Lambda's behaviour, never a crash or a lost record ---


def test_a_handler_that_mangles_its_event_changes_nothing_the_runner_reads() -> None:
    def mangle(event: Any, context: Any) -> Any:
        first = event["Records"][0]
        first["dynamodb"]["SequenceNumber"] = "999999999999999999999"
        event["Records"][-1].pop("dynamodb")
        event["Records"].append({"garbage": True})
        return {"batchItemFailures": [{"itemIdentifier": "000000000000000000002"}]}

    records = [rec(i) for i in range(1, 4)]
    before = json.loads(json.dumps(records))
    invoker, failures, stats = make(mangle, maximum_retry_attempts=1, **RBIF)
    assert invoker.process("s", records)
    assert records == before  # the caller's records are untouched
    assert (stats.records_succeeded, stats.records_failed) == (1, 2)
    info = failures[0]["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (
        "000000000000000000002",
        "000000000000000000003",
    )


class Escape(BaseException):
    """A BaseException of the handler's own."""


@pytest.mark.parametrize(
    "raised", [SystemExit(3), KeyboardInterrupt(), GeneratorExit(), Escape("out"), MemoryError()]
)
def test_any_base_exception_from_the_handler_is_a_function_error(raised: BaseException) -> None:
    def handler(event: Any, context: Any) -> Any:
        raise raised

    invoker, failures, stats = make(handler, maximum_retry_attempts=1)
    assert invoker.process("s", BATCH)
    assert (stats.function_errors, stats.records_failed, stats.invocations) == (2, 4, 2)
    assert failures[0]["responseContext"]["functionError"] == "Unhandled"


def test_an_async_handler_is_a_function_error_as_on_lambda() -> None:
    async def handler(event: Any, context: Any) -> None:
        return None

    invoker, failures, stats = make(handler, maximum_retry_attempts=0)
    assert invoker.process("s", BATCH)
    assert (stats.function_errors, stats.records_succeeded, len(failures)) == (1, 0, 1)


def test_a_handler_that_never_returns_times_out_and_the_runner_goes_on() -> None:
    release = threading.Event()
    invoker, failures, stats = make(
        lambda event, context: release.wait(), timeout=0.05, maximum_retry_attempts=0
    )
    try:
        assert invoker.process("s", [rec(1)])
    finally:
        release.set()
    assert (stats.function_errors, len(failures)) == (1, 1)


def test_what_is_retried_shows_in_the_stats_while_it_is_retried() -> None:
    seen: list[tuple[int, int]] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append((stats.records_retrying, stats.retry_attempts))
        if len(seen) < 3:
            raise ValueError("not yet")

    invoker, _, stats = make(handler)
    assert invoker.process("s", BATCH)
    assert seen == [(0, 0), (4, 1), (4, 2)]
    assert stats.retrying == {}  # cleared once the batch succeeded


def test_a_record_stuck_past_the_bound_stops_without_being_handled() -> None:
    def handler(event: Any, context: Any) -> Any:
        raise KeyError("amount")

    invoker, failures, stats = make(handler)  # infinite retries, as by default
    invoker.stuck_after = 3
    assert invoker.process("s", BATCH) is False
    assert invoker.stopping.is_set()
    (stuck,) = stats.stuck
    assert (stuck.sequence_number, stuck.event_id, stuck.records, stuck.attempts) == (
        "000000000000000000001",
        "id1",
        4,
        3,
    )
    assert stuck.error == "KeyError: 'amount'"
    assert (stats.invocations, failures, stats.records_succeeded) == (3, [], 0)


def test_logs_name_the_records(caplog: pytest.LogCaptureFixture) -> None:
    def handler(event: Any, context: Any) -> Any:
        raise ValueError("bad amount")

    invoker, _, _ = make(handler, maximum_retry_attempts=0, batch_size=2)
    with caplog.at_level(logging.WARNING, logger="ddbstream.runner"):
        invoker.process("s", BATCH[:2])
    error, *failed = caplog.records
    assert "SequenceNumber 000000000000000000001..000000000000000000002" in error.getMessage()
    assert "ValueError: bad amount" in error.getMessage()
    assert error.exc_info is not None  # the traceback, on the first invocation
    assert [(r.event_id, r.sequence_number) for r in failed] == [  # type: ignore[attr-defined]
        ("id1", "000000000000000000001"),
        ("id2", "000000000000000000002"),
    ]


def test_metrics_per_gathered_batch() -> None:
    summaries: list[BatchSummary] = []

    class Sink:
        def publish(self, summary: BatchSummary) -> None:
            summaries.append(summary)

    def handler(event: Any, context: Any) -> Any:
        bad = [r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"] == "c"]
        return {
            "batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in bad]
        }

    criteria = {
        "Filters": [{"Pattern": json.dumps({"dynamodb": {"Keys": {"pk": {"S": ["a", "c"]}}}})}]
    }
    invoker, _, _ = make(handler, maximum_retry_attempts=0, filter_criteria=criteria, **RBIF)
    invoker.metrics = Sink()
    invoker.clock = lambda: 1_700_000_010.0
    invoker.process("s", [rec(1, "a"), rec(2, "b"), rec(3, "c")])
    (summary,) = summaries
    assert (summary.component, summary.function, summary.records) == ("runner", "fn", 3)
    assert (summary.processed, summary.failed, summary.filtered) == (1, 1, 1)
    assert summary.record_age_ms == 10_000.0


def test_records_given_away_reach_the_first_invocation_and_retries_stay_pristine() -> None:
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append(json.loads(json.dumps(event["Records"])))
        for record in event["Records"]:
            record["dynamodb"]["SequenceNumber"] = "1"
        raise RuntimeError("after mangling")

    records = [rec(1), rec(2)]
    pristine = json.loads(json.dumps(records))
    invoker, failures, stats = make(handler, maximum_retry_attempts=1)
    assert invoker.process("s", records, owned=True)
    assert records[0]["dynamodb"]["SequenceNumber"] == "1"  # the handler had the originals...
    assert seen == [pristine, pristine]  # ...but the retry got the records as they were read
    (failure,) = failures
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == "000000000000000000001"
    assert stats.records_failed == 2
