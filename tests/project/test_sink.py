"""ddbstream.project's values and sink arguments: versions as text, changes, reprs, misuse."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import UsageError
from ddbstream.project import Change, DynamoDBSink, MemorySink, Projection, version_text


@given(st.integers(0, 10**40 - 1), st.integers(0, 10**40 - 1))
def test_version_text_orders_as_the_numbers(a: int, b: int) -> None:
    assert len(version_text(a)) == 40
    assert (version_text(a) < version_text(b)) == (a < b)
    assert int(version_text(a)) == a


@pytest.mark.parametrize("bad", [-1, 10**40, True])
def test_version_text_refuses_what_is_not_a_sequence_number(bad: Any) -> None:
    with pytest.raises(UsageError):
        version_text(bad)


def test_a_change_shows_its_version_as_text() -> None:
    change = Change({"pk": "a"}, None, 42)
    assert change.version_text == "42".zfill(40)
    assert change == Change({"pk": "a"}, None, 42, created=True)  # a hint, not identity


def test_sinks_say_what_they_are() -> None:
    assert repr(DynamoDBSink("T", key="pk")) == "DynamoDBSink('T', key='pk')"
    assert repr(DynamoDBSink("T", key=("pk", "sk"), tombstones=False, concurrency=4)) == (
        "DynamoDBSink('T', key=('pk', 'sk'), tombstones=False, concurrency=4)"
    )
    assert DynamoDBSink("T", key="pk", tombstones="Graves").tombstone_table == "Graves"
    assert DynamoDBSink("T", key="pk", tombstones=False).tombstone_table is None
    assert repr(MemorySink(key="pk")) == "MemorySink(key='pk')"
    projection = Projection(dict, sink=MemorySink(key="pk"))
    assert repr(projection) == "Projection(dict, sink=MemorySink(key='pk'))"


@pytest.mark.parametrize(
    "arguments",
    [
        {"table": ""},
        {"key": ()},
        {"key": ("a", "b", "c")},
        {"tombstones": ""},
        {"tombstone_hours": 24},
        {"concurrency": 0},
    ],
)
def test_dynamodb_sink_arguments_are_checked(arguments: dict[str, Any]) -> None:
    table = arguments.pop("table", "T")
    arguments.setdefault("key", "pk")
    with pytest.raises(UsageError):
        DynamoDBSink(table, **arguments)


def test_projection_arguments_are_checked() -> None:
    with pytest.raises(UsageError, match="function"):
        Projection(42, sink=MemorySink(key="pk"))  # type: ignore[call-overload]
    with pytest.raises(UsageError, match="deadline_margin_ms"):
        Projection(dict, sink=MemorySink(key="pk"), deadline_margin_ms=-1)
