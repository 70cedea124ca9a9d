"""How the mapping reads a handler's response: AWS's table of partial batch responses, the
tumbling-window state rule, and the runtime's serialisation of whatever the handler returned."""

from __future__ import annotations

import decimal
import json
from typing import Any

import pytest

from ddbstream.runner._response import marshal, read_response

from ._support import rec

BATCH = [rec(i) for i in range(1, 5)]
SEQS = [r["dynamodb"]["SequenceNumber"] for r in BATCH]


def read(response: Any, sequence_numbers: list[str] = SEQS, **flags: bool) -> Any:
    return read_response(json.dumps(response), sequence_numbers, **flags)


# -- read_response: AWS's table (section 3 of the ESM reference) -------------------------


@pytest.mark.parametrize(
    "response", [None, {}, [], {"batchItemFailures": []}, {"batchItemFailures": None}]
)
def test_success_responses(response: Any) -> None:
    assert read(response, report_failures=True, windowed=False).kind == "success"


@pytest.mark.parametrize(
    "failure",
    [
        {"itemIdentifier": ""},
        {"itemIdentifier": None},
        {"foo": 123},
        {"foo": None},
        {"itemIdentifier": 123},
        {"itemIdentifier": "999999999999999999999"},  # well formed, not in the batch
        "000000000000000000002",
    ],
)
def test_complete_failure_responses(failure: Any) -> None:
    out = read(
        {"batchItemFailures": [{"itemIdentifier": SEQS[2]}, failure]},
        report_failures=True,
        windowed=False,
    )
    assert (out.kind, out.retry_from) == ("reported_failure", 0)


def test_lowest_failed_sequence_number_compared_numerically() -> None:
    batch = [rec(9), rec(10), rec(11)]
    batch[0]["dynamodb"]["SequenceNumber"] = "9"  # shorter digit strings than the others
    seqs = [r["dynamodb"]["SequenceNumber"] for r in batch]
    failures = [{"itemIdentifier": seqs[2]}, {"itemIdentifier": "9"}]
    out = read({"batchItemFailures": failures}, seqs, report_failures=True, windowed=False)
    assert (out.kind, out.retry_from) == ("reported_failure", 0)


def test_responses_ignored_without_report_batch_item_failures() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": ""}]}
    assert read(response, report_failures=False, windowed=False).kind == "success"


def test_window_response_needs_state() -> None:
    assert read({}, report_failures=False, windowed=True).kind == "reported_failure"
    out = read({"state": {"n": 1}}, report_failures=False, windowed=True)
    assert (out.kind, out.state) == ("success", {"n": 1})


def test_a_response_that_is_not_json_or_not_an_object_is_a_success() -> None:
    assert read_response("not json", SEQS, report_failures=True, windowed=False).kind == "success"
    assert read("a string", report_failures=True, windowed=False).kind == "success"
    assert read_response("not json", SEQS, report_failures=True, windowed=True).kind == (
        "reported_failure"
    )


def test_reported_failures_name_what_failed() -> None:
    out = read(
        {"batchItemFailures": [{"itemIdentifier": SEQS[3]}, {"itemIdentifier": SEQS[1]}]},
        report_failures=True,
        windowed=False,
    )
    assert (out.kind, out.retry_from) == ("reported_failure", 1)
    assert out.error == f"batchItemFailures: {SEQS[1]}, {SEQS[3]}"


# -- marshal: what Lambda's Python runtime makes of a return value ---------------------------


def test_marshal_writes_decimals_as_numbers_like_the_runtime() -> None:
    text = marshal({"state": {"total": decimal.Decimal("12.50"), "n": decimal.Decimal(3)}})
    assert json.loads(text) == {"state": {"total": 12.5, "n": 3}}


@pytest.mark.parametrize("response", [object(), {"a": {1, 2}}, {(1, 2): "tuple key"}])
def test_marshal_refuses_what_the_runtime_cannot_serialise(response: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        marshal(response)


def test_marshal_passes_bytes_as_they_are() -> None:
    assert marshal(b'{"batchItemFailures": []}') == '{"batchItemFailures": []}'
    assert marshal(b"\xff") == "\ufffd"


def test_marshal_closes_a_coroutine_and_refuses_it() -> None:
    async def handler() -> None:
        return None

    coroutine = handler()
    with pytest.raises(TypeError, match="does not await async handlers"):
        marshal(coroutine)
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning
