"""Fuzz targets of the runner: whatever a handler does and whatever records come in, the
invoker behaves as Lambda's event source mapping would. It returns (or raises a typed error for
records that are not stream records, before invoking anything), within a time bound, leaves the
caller's records as they were, and accounts for every record: handled, or in an on-failure
record; never lost, never counted twice.

The handler, drawn per example, answers each invocation from a script: any JSON-like value,
partial batch responses naming records of the event (or not), exceptions of every kind
(``BaseException`` subclasses included), a coroutine, an unserialisable object, a mangled event,
or a sleep past the function timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ddbstream import DDBStreamError, DecodeError
from ddbstream.runner import CheckpointStore, EventSourceMapping, FailureRecord, RunnerStats
from ddbstream.runner._config import LocalFunction
from ddbstream.runner._invoke import Invoker
from ddbstream.runner._response import read_response
from ddbstream.runner._windows import WindowKeeper

from ._bounds import call_bounded

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-01-01T00:00:00.000"
TIMEOUT = 0.02

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


class Escape(BaseException):
    """A handler's own BaseException."""


@st.composite
def stream_records(draw: st.DrawFn) -> dict[str, Any]:
    sequence = draw(st.integers(1, 10**25))
    dynamodb: dict[str, Any] = {
        "Keys": {"pk": {"S": draw(st.sampled_from("abc"))}},
        "NewImage": {"n": {"N": str(draw(st.integers(-5, 5)))}},
        "SequenceNumber": f"{sequence:021d}",
        "ApproximateCreationDateTime": draw(
            st.none() | st.floats(0, 2e9, allow_nan=False) | st.just("not a number")
        ),
    }
    dynamodb.update(draw(st.dictionaries(st.sampled_from(["OldImage", "SizeBytes"]), json_values)))
    return {"eventID": f"e{sequence}", "eventName": "INSERT", "dynamodb": dynamodb}


records_lists = st.lists(
    stream_records() | json_values.map(lambda v: {"dynamodb": v}) | json_values, max_size=6
)

Action = tuple[str, Any]
actions = st.tuples(
    st.sampled_from(
        [
            "return",
            "fail_some",
            "raise",
            "mangle",
            "coroutine",
            "unserialisable",
            "sleep",
            "state",
        ]
    ),
    json_values,
)
RAISED = [
    ValueError("v"),
    KeyError("k"),
    SystemExit(1),
    KeyboardInterrupt(),
    Escape(),
    RecursionError(),
]


class ScriptedHandler:
    def __init__(self, script: list[Action]) -> None:
        self.script = script or [("return", None)]
        self.calls = 0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        kind, value = self.script[self.calls % len(self.script)]
        self.calls += 1
        records = event["Records"]
        if kind == "raise":
            raise RAISED[hash(json.dumps(value)) % len(RAISED)]
        if kind == "mangle":
            for record in records:
                record.pop("dynamodb", None)
            records.append(value)
            event.pop("state", None)
            return value
        if kind == "coroutine":
            return asyncio.sleep(0)
        if kind == "unserialisable":
            return {"batchItemFailures": [{"itemIdentifier": object()}]}
        if kind == "sleep":
            time.sleep(TIMEOUT * 3)
            return None
        if kind == "fail_some":
            picked = [r for i, r in enumerate(records) if hash((i, json.dumps(value))) % 2]
            return {
                "batchItemFailures": [
                    {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in picked
                ]
                + ([{"itemIdentifier": value}] if isinstance(value, str) else [])
            }
        if kind == "state":
            return {"state": value if isinstance(value, dict) else {"v": value}}
        return value


settings_strategy = st.fixed_dictionaries(
    {
        "batch_size": st.integers(1, 4),
        "function_response_types": st.sampled_from([(), ("ReportBatchItemFailures",)]),
        "bisect_batch_on_function_error": st.booleans(),
        "maximum_retry_attempts": st.integers(0, 2),
        "parallelization_factor": st.integers(1, 2),
    }
)


@given(records_lists, st.lists(actions, max_size=5), settings_strategy, st.booleans())
def test_the_invoker_accounts_for_every_record_whatever_the_handler_does(
    records: list[Any], script: list[Action], settings: dict[str, Any], windowed: bool
) -> None:
    if windowed:
        settings = settings | {"parallelization_factor": 1, "tumbling_window_in_seconds": 60}
    failures: list[FailureRecord] = []
    stats = RunnerStats()
    store = CheckpointStore()
    windows = WindowKeeper(60, store=store, stream_arn=ARN, clock=lambda: 2e9) if windowed else None
    invoker = Invoker(
        ScriptedHandler(script),
        EventSourceMapping(**settings),
        stream_arn=ARN,
        send_failure=failures.append,
        stats=stats,
        windows=windows,
        function=LocalFunction(timeout=TIMEOUT),
        retry_delay=0.0,
    )
    try:
        result = call_bounded(invoker.process, "shardId-1", records, seconds=3.0)
        if windows is not None and not isinstance(result, DDBStreamError):
            assert call_bounded(invoker.close_expired_window, "shardId-1", force=True, seconds=3.0)
    finally:
        invoker.close()
        store.close()
    if isinstance(result, DDBStreamError):
        assert isinstance(result, DecodeError)
        assert stats.invocations == 0  # refused before invoking anything
        return
    assert result is True
    assert stats.records_succeeded + stats.records_failed == len(records)
    assert sum(f.batch_size for f in failures) == stats.records_failed
    given_up = Counter(json.dumps(r) for f in failures for r in f.records or [])
    assert given_up <= Counter(json.dumps(r) for r in records)  # the callers' own records
    assert sum(given_up.values()) == stats.records_failed


@given(
    st.text(max_size=200) | json_values.map(json.dumps),
    st.lists(st.integers(0, 10**30).map(str), max_size=5),
    st.booleans(),
    st.booleans(),
)
def test_read_response_never_raises(
    text: str, sequences: list[str], report: bool, windowed: bool
) -> None:
    out = call_bounded(read_response, text, sequences, report_failures=report, windowed=windowed)
    assert not isinstance(out, DDBStreamError)
    assert 0 <= out.retry_from <= max(len(sequences) - 1, 0)


@given(
    json_values
    | st.text(max_size=200)
    | st.builds(lambda v: {"DDBStreamBatchInfo": v}, json_values)
)
def test_failure_records_parse_or_raise_decode_errors(value: Any) -> None:
    out = call_bounded(FailureRecord.parse, value)
    assert isinstance(out, (FailureRecord, DecodeError))
