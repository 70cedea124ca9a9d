"""Records as the runner keeps them (identity read once, exact JSON text) and batches cut at
BatchSize and Lambda's 6 MB."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import DecodeError
from ddbstream.runner._batches import cut_batches, event_text, to_entries

from ._support import rec


def size(batch: list[Any]) -> int:
    return len(event_text(batch))


def test_batches_cut_at_batch_size_and_payload() -> None:
    records = to_entries([rec(i, blob="x" * 1000) for i in range(1, 11)])
    assert [len(b) for b in cut_batches(records, 4)] == [4, 4, 2]
    one = len(records[0].text)
    assert [len(b) for b in cut_batches(records, 100, limit=3 * one + 20)] == [3, 3, 3, 1]


@given(st.lists(st.integers(0, 5000), min_size=1, max_size=40), st.integers(1, 7))
def test_cut_batches_are_greedy_within_limits(blobs: list[int], batch_size: int) -> None:
    records = [rec(i, blob="x" * n) for i, n in enumerate(blobs, 1)]
    batches = cut_batches(to_entries(records), batch_size, limit=8000)
    assert [e.record() for b in batches for e in b] == records
    for batch, following in zip(batches, [*batches[1:], []], strict=True):
        assert len(batch) <= batch_size
        assert len(batch) == 1 or size(batch) <= 8000
        if following:  # cut only when the next record would break a limit
            assert len(batch) == batch_size or size([*batch, following[0]]) > 8000


def test_entries_read_identity_once() -> None:
    record = rec(7, t=1_700_000_000.5)
    (entry,) = to_entries([record])
    assert (entry.sequence_number, entry.event_id, entry.created) == (
        "000000000000000000007",
        "id7",
        1_700_000_000.5,
    )
    copy = entry.record()
    copy["dynamodb"]["SequenceNumber"] = "1"
    assert entry.record() == record  # every copy is fresh


@pytest.mark.parametrize(
    ("record", "path"),
    [
        ("text", (0,)),
        ({"eventID": "e"}, (0, "dynamodb", "SequenceNumber")),
        ({"dynamodb": {"SequenceNumber": 12}}, (0, "dynamodb", "SequenceNumber")),
        ({"dynamodb": {"SequenceNumber": "12a"}}, (0, "dynamodb", "SequenceNumber")),
        ({"dynamodb": {"SequenceNumber": "١٢"}}, (0, "dynamodb", "SequenceNumber")),
        ({"dynamodb": {"SequenceNumber": "12"}, "x": float("nan")}, (0,)),
        ({"dynamodb": {"SequenceNumber": "12"}, "x": object()}, (0,)),
    ],
)
def test_bad_records_are_decode_errors_naming_them(record: Any, path: tuple[Any, ...]) -> None:
    with pytest.raises(DecodeError) as info:
        to_entries([record])
    assert info.value.path == path


def test_a_creation_time_that_is_not_a_finite_number_is_unknown() -> None:
    record = rec(1)
    for odd in (True, "1700000000", None):
        record["dynamodb"]["ApproximateCreationDateTime"] = odd
        assert to_entries([record])[0].created is None


def test_event_text_adds_window_fields() -> None:
    entries = to_entries([rec(1)])
    event = json.loads(event_text(entries, {"state": {"n": 1}, "isFinalInvokeForWindow": False}))
    assert event["Records"] == [rec(1)]
    assert (event["state"], event["isFinalInvokeForWindow"]) == ({"n": 1}, False)
