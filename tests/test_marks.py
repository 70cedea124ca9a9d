"""ddbstream._marks: watermark values order like the sequence numbers they hold (the
property DynamoDB's binary comparison relies on), lanes are stable and namespaced, and a
watermark is stale exactly after the retention window."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ddbstream._marks import (
    LANE_CHARS,
    MARK_PREFIX,
    RETENTION_HOURS,
    first_value,
    is_mark_name,
    lane_of,
    mark_value,
    read_mark,
    stale,
)

sequences = st.integers(0, 10**40 - 1)  # SequenceNumbers have up to 40 digits
hours = st.integers(0, 2**24 - 1)


@given(stored=sequences, first=sequences, hour=hours)
def test_a_stored_mark_blocks_exactly_the_records_it_covers(
    stored: int, first: int, hour: int
) -> None:
    # DynamoDB compares Binary values byte by byte, unsigned: bytes comparison in Python.
    blocked = mark_value(sequence=stored, hour=hour) >= first_value(first)
    assert blocked == (stored >= first)


@given(sequence=sequences, hour=hours)
def test_marks_round_trip(sequence: int, hour: int) -> None:
    assert read_mark(mark_value(sequence=sequence, hour=hour)) == (sequence, hour)


def test_values_that_are_not_marks_are_recognised() -> None:
    assert read_mark(b"") is None
    assert read_mark(b"\x05ab") is None
    assert is_mark_name(MARK_PREFIX + "a" * LANE_CHARS)
    assert not is_mark_name("_wshort")
    assert not is_mark_name("Total")


def test_lanes_are_stable_short_and_namespaced() -> None:
    item = ("Transactions", (("TransactionId", '{"S":"1"}'),))
    lane = lane_of("ns", *item)
    assert lane == lane_of("ns", *item)
    assert len(lane) == LANE_CHARS
    assert lane != lane_of("other", *item)
    assert lane != lane_of("ns", "Transactions", (("TransactionId", '{"S":"2"}'),))


@given(written=hours, age=st.integers(0, 10_000))
def test_a_mark_is_stale_only_after_the_retention(written: int, age: int) -> None:
    now = (written + age) % 2**24
    assert stale(written, now) == (age > RETENTION_HOURS)
