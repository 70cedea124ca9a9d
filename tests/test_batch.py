"""The in-order batch engine: failure policies, partial batch responses per envelope, dead
letters, deadlines and records that cannot be parsed."""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import (
    BatchResult,
    DecodeError,
    FailurePolicy,
    ImageValidationError,
    RecordFailure,
    Router,
    StreamRecord,
)
from ddbstream.testing import (
    FakeLambdaContext,
    insert,
    kinesis_event,
    lambda_event,
    pipes_event,
)

ENVELOPES: dict[str, Callable[..., Any]] = {
    "lambda": lambda_event,
    "kinesis": kinesis_event,
    "pipes": pipes_event,
}


def make_event(envelope: str, n: int) -> Any:
    return ENVELOPES[envelope](*(insert({"pk": str(i), "n": i}) for i in range(n)))


def identifiers(envelope: str, event: Any) -> list[str]:
    """The itemIdentifier of each record, read straight from the raw event."""
    if envelope == "pipes":
        return [r["eventID"] for r in event]
    if envelope == "kinesis":
        return [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    return [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]


class Recorder:
    """A record function that remembers which keys it ran and fails on chosen keys."""

    def __init__(self, failing: set[int] = frozenset(), error: Exception | None = None) -> None:  # type: ignore[assignment]
        self.failing = failing
        self.error = error or RuntimeError("boom")
        self.ran: list[int] = []

    def __call__(self, record: StreamRecord[Any]) -> None:
        index = int(record.keys["pk"])
        self.ran.append(index)
        if index in self.failing:
            raise self.error


def failures(response: Any) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


# -- policies and responses ---------------------------------------------------------------------


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_success_reports_nothing(envelope: str) -> None:
    event = make_event(envelope, 3)
    fn = Recorder()
    result = Router.for_function(fn).process(event)
    assert fn.ran == [0, 1, 2]
    assert result.response() == {"batchItemFailures": []}
    assert [r.keys["pk"] for r in result.processed] == ["0", "1", "2"]
    assert result.failed == ()
    assert result.not_attempted == ()


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_stop_runs_nothing_after_the_first_failure(envelope: str) -> None:
    event = make_event(envelope, 5)
    ids = identifiers(envelope, event)
    fn = Recorder({1, 3})
    result = Router.for_function(fn).process(event)
    assert fn.ran == [0, 1]
    assert [f.index for f in result.failed] == [1]
    assert result.not_attempted == tuple(ids[2:])
    expected = ids[1:] if envelope == "pipes" else ids[1:2]
    assert failures(result.response()) == expected


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_continue_reports_every_failure(envelope: str) -> None:
    event = make_event(envelope, 5)
    ids = identifiers(envelope, event)
    fn = Recorder({1, 3})
    result = Router.for_function(fn, policy="continue").process(event)
    assert fn.ran == [0, 1, 2, 3, 4]
    assert failures(result.response()) == [ids[1], ids[3]]
    assert [r.keys["pk"] for r in result.processed] == ["0", "2", "4"]


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_all_records_failing_is_still_reported(envelope: str) -> None:
    event = make_event(envelope, 3)
    ids = identifiers(envelope, event)
    stop = Router.for_function(Recorder({0, 1, 2})).handle(event)
    cont = Router.for_function(Recorder({0, 1, 2}), policy="continue").handle(event)
    assert failures(stop) == (ids if envelope == "pipes" else ids[:1])
    assert failures(cont) == ids


def test_empty_batch() -> None:
    assert Router.for_function(Recorder()).handle({"Records": []}) == {"batchItemFailures": []}
    assert Router.for_function(Recorder()).handle([]) == {"batchItemFailures": []}


def test_event_is_not_mutated() -> None:
    event = make_event("lambda", 3)
    before = copy.deepcopy(event)
    Router.for_function(Recorder({1})).handle(event)
    assert event == before


def test_unknown_policy_is_a_usage_error() -> None:
    from ddbstream import UsageError

    with pytest.raises(UsageError, match="policy="):
        Router(policy="retry")
    assert Router(policy=FailurePolicy.CONTINUE).policy is FailurePolicy.CONTINUE


@given(
    envelope=st.sampled_from(sorted(ENVELOPES)),
    n=st.integers(1, 12),
    data=st.data(),
)
def test_stop_policy_property(envelope: str, n: int, data: st.DataObject) -> None:
    failing = data.draw(st.sets(st.integers(0, n - 1)))
    event = make_event(envelope, n)
    ids = identifiers(envelope, event)
    fn = Recorder(failing)
    reported = failures(Router.for_function(fn).handle(event))
    if not failing:
        assert reported == []
        assert fn.ran == list(range(n))
        return
    first = min(failing)
    assert fn.ran == list(range(first + 1)), "a record after the first failure ran"
    assert reported[0] == ids[first]
    assert reported == (ids[first:] if envelope == "pipes" else [ids[first]])


@given(envelope=st.sampled_from(sorted(ENVELOPES)), n=st.integers(1, 12), data=st.data())
def test_continue_policy_property(envelope: str, n: int, data: st.DataObject) -> None:
    failing = data.draw(st.sets(st.integers(0, n - 1)))
    event = make_event(envelope, n)
    ids = identifiers(envelope, event)
    fn = Recorder(failing)
    reported = failures(Router.for_function(fn, policy="continue").handle(event))
    assert fn.ran == list(range(n))
    assert reported == [ids[i] for i in sorted(failing)]


# -- data errors and dead letters -----------------------------------------------------------------


def test_decode_error_is_a_record_failure_not_a_crash() -> None:
    event = make_event("lambda", 3)
    event["Records"][1]["dynamodb"]["NewImage"]["n"] = {"N": "not a number"}
    ids = identifiers("lambda", event)

    def read(record: StreamRecord[Any]) -> None:
        record.new_image["n"]  # type: ignore[index]

    result = Router.for_function(read).process(event)
    assert failures(result.response()) == [ids[1]]
    assert isinstance(result.failed[0].exception, DecodeError)


def test_dead_letter_takes_data_errors_and_processing_continues() -> None:
    event = make_event("lambda", 4)
    event["Records"][1]["dynamodb"]["NewImage"]["n"] = {"N": "x"}
    dead: list[RecordFailure] = []
    ran: list[str] = []

    def read(record: StreamRecord[Any]) -> None:
        record.new_image["n"]  # type: ignore[index]
        ran.append(record.keys["pk"])

    result = Router.for_function(read, dead_letter=dead.append).process(event)
    assert ran == ["0", "2", "3"]
    assert result.response() == {"batchItemFailures": []}
    assert [f.index for f in dead] == [1]
    assert dead[0].raw is event["Records"][1]
    assert dead[0].record is not None
    assert dead[0].record.keys["pk"] == "1"
    assert result.dead_lettered == tuple(dead)


def test_dead_letter_does_not_take_ordinary_exceptions() -> None:
    event = make_event("lambda", 3)
    dead: list[RecordFailure] = []
    result = Router.for_function(Recorder({1}), dead_letter=dead.append).process(event)
    assert dead == []
    assert failures(result.response()) == [identifiers("lambda", event)[1]]


def test_failing_dead_letter_fails_the_record() -> None:
    event = make_event("lambda", 3)
    event["Records"][0]["dynamodb"]["NewImage"]["n"] = {"N": "x"}

    def read(record: StreamRecord[Any]) -> None:
        record.new_image["n"]  # type: ignore[index]

    def broken_queue(failure: RecordFailure) -> None:
        raise ConnectionError("queue down")

    result = Router.for_function(read, dead_letter=broken_queue).process(event)
    assert failures(result.response()) == [identifiers("lambda", event)[0]]
    assert isinstance(result.failed[0].exception, ConnectionError)
    assert result.dead_lettered == ()


def test_model_validation_error_is_a_record_failure() -> None:
    from pydantic import BaseModel

    class Item(BaseModel):
        pk: str
        n: int

    event = lambda_event(insert({"pk": "0", "n": 1}), insert({"pk": "1", "n": "many"}))
    seen: list[int] = []
    result = Router.for_function(lambda r: seen.append(r.new.n), model=Item).process(event)
    assert seen == [1]
    assert isinstance(result.failed[0].exception, ImageValidationError)
    assert failures(result.response()) == [identifiers("lambda", event)[1]]


def test_unparseable_kinesis_record_with_identifier_fails_alone() -> None:
    event = make_event("kinesis", 3)
    event["Records"][1]["kinesis"]["data"] = base64.b64encode(b"not json").decode()
    ids = identifiers("kinesis", event)
    fn = Recorder()
    result = Router.for_function(fn, policy="continue").process(event)
    assert fn.ran == [0, 2]
    assert failures(result.response()) == [ids[1]]
    assert result.failed[0].record is None
    assert isinstance(result.failed[0].exception, DecodeError)


def test_unparseable_record_goes_to_the_dead_letter_with_its_raw_record() -> None:
    event = make_event("kinesis", 2)
    event["Records"][0]["kinesis"]["data"] = "%%%"
    dead: list[RecordFailure] = []
    fn = Recorder()
    assert Router.for_function(fn, dead_letter=dead.append).handle(event) == {
        "batchItemFailures": []
    }
    assert fn.ran == [1]
    assert dead[0].raw is event["Records"][0]
    assert dead[0].record is None


@pytest.mark.parametrize("envelope", ["lambda", "pipes"])
def test_record_without_identifier_fails_the_whole_batch(envelope: str) -> None:
    event = make_event(envelope, 3)
    records = event if envelope == "pipes" else event["Records"]
    if envelope == "pipes":
        del records[2]["eventID"]
    else:
        records[2]["dynamodb"]["SequenceNumber"] = None
    fn = Recorder()
    with pytest.raises(DecodeError, match="whole batch") as info:
        Router.for_function(fn).handle(event)
    assert fn.ran == [], "nothing may run when the batch will be retried as a whole"
    assert info.value.path[:2] == ("Records", 2)


def test_not_an_event_raises_decode_error() -> None:
    with pytest.raises(DecodeError):
        Router.for_function(Recorder()).handle({"Items": []})


def test_base_exceptions_are_not_swallowed() -> None:
    def interrupt(record: StreamRecord[Any]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Router.for_function(interrupt).handle(make_event("lambda", 2))


# -- deadlines ------------------------------------------------------------------------------------


class Slow:
    """Each record takes ``ms`` of the fake context's time."""

    def __init__(self, context: FakeLambdaContext, ms: int) -> None:
        self.context, self.ms, self.ran = context, ms, 0

    def __call__(self, record: StreamRecord[Any]) -> None:
        self.context.advance(self.ms)
        self.ran += 1


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_deadline_stops_and_reports_the_unprocessed(envelope: str) -> None:
    event = make_event(envelope, 10)
    ids = identifiers(envelope, event)
    context = FakeLambdaContext(remaining_ms=3000)
    fn = Slow(context, 500)
    result = Router.for_function(fn, deadline_margin_ms=1000).process(event, context)
    # 3000 -> 2500 -> 2000 -> 1500 -> 1000 (not below the margin) -> 500: stop before record 5
    assert fn.ran == 5
    assert result.deadline_reached
    assert result.not_attempted == tuple(ids[5:])
    assert failures(result.response()) == (ids[5:] if envelope == "pipes" else [ids[5]])


def test_deadline_under_continue_reports_failures_and_unprocessed() -> None:
    event = make_event("lambda", 6)
    ids = identifiers("lambda", event)
    context = FakeLambdaContext(remaining_ms=2000)

    def fn(record: StreamRecord[Any]) -> None:
        context.advance(400)
        if record.keys["pk"] == "1":
            raise RuntimeError("boom")

    result = Router.for_function(fn, policy="continue", deadline_margin_ms=500).process(
        event, context
    )
    assert failures(result.response()) == [ids[1], *ids[4:]]


def test_no_context_means_no_deadline() -> None:
    fn = Recorder()
    assert (
        not Router.for_function(fn, deadline_margin_ms=10**9)
        .process(make_event("lambda", 3))
        .deadline_reached
    )
    assert fn.ran == [0, 1, 2]


@pytest.mark.parametrize("margin", [-1, 1.5, True])
def test_bad_margin(margin: Any) -> None:
    from ddbstream import UsageError

    with pytest.raises(UsageError, match="deadline_margin_ms"):
        Router(deadline_margin_ms=margin)


# -- result and logging ---------------------------------------------------------------------------


def test_result_is_frozen_and_reports_durations() -> None:
    result = Router.for_function(Recorder()).process(make_event("lambda", 2))
    assert isinstance(result, BatchResult)
    with pytest.raises(AttributeError):
        result.processed = ()  # type: ignore[misc]
    assert result.duration >= sum(result.route_durations.values()) >= 0
    assert set(result.route_durations) == {"Recorder"}


def test_logs_one_summary_and_one_warning_per_failure(caplog: pytest.LogCaptureFixture) -> None:
    event = make_event("lambda", 4)
    ids = identifiers("lambda", event)
    with caplog.at_level(logging.INFO, logger="ddbstream.routing"):
        Router.for_function(Recorder({0, 2}), policy="continue").handle(event)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [w.item_identifier for w in warnings] == [ids[0], ids[2]]  # type: ignore[attr-defined]
    assert all(w.event_id == event["Records"][int(w.record_index)]["eventID"] for w in warnings)  # type: ignore[attr-defined]
    assert len(infos) == 1
    assert (infos[0].processed, infos[0].failed, infos[0].records) == (2, 2, 4)  # type: ignore[attr-defined]
    assert "2 processed, 2 failed" in infos[0].getMessage()
