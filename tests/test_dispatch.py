"""Dispatch: the routes of one record run in registration order after every condition was
asked; a failure names the route whose condition, binding or function raised; unmatched records
go to the fallback and are counted."""

from __future__ import annotations

from typing import Any

import pytest

from ddbstream import StreamEvent, StreamRecord
from ddbstream._dispatch import Dispatch, Target
from ddbstream.testing import insert, lambda_event, remove

RECORDS = StreamEvent.from_lambda(lambda_event(insert({"pk": "a"}), remove({"pk": "b"}))).records


def target(name: str, matches: Any, calls: list[str], fails: bool = False) -> Target:
    def handler(record: StreamRecord[Any]) -> None:
        calls.append(f"{name} {record.keys['pk']}")
        if fails:
            raise RuntimeError(name)

    return Target(name, matches, handler, None)


def test_matching_routes_run_in_order_and_the_rest_fall_back() -> None:
    calls: list[str] = []
    inserts = lambda r: r.event_name == "INSERT"  # noqa: E731
    dispatch = Dispatch(
        [target("first", inserts, calls), target("all", None, calls)],
        target("default", None, calls),
    )
    for record in RECORDS:
        dispatch.step(record)
    assert calls == ["first a", "all a", "all b"]
    assert dispatch.unmatched == []
    only_inserts = Dispatch([target("first", inserts, calls)], target("default", None, calls))
    calls.clear()
    for record in RECORDS:
        only_inserts.step(record)
    assert calls == ["first a", "default b"]
    assert only_inserts.unmatched == [RECORDS[1]]
    assert [(t.name, t.calls) for t in only_inserts.targets] == [("first", 1), ("default", 1)]


def test_a_failure_names_its_route() -> None:
    calls: list[str] = []

    def broken(record: StreamRecord[Any]) -> bool:
        raise TypeError("bug")

    dispatch = Dispatch([target("ok", None, calls), target("checks", broken, calls)], None)
    with pytest.raises(TypeError):
        dispatch.step(RECORDS[0])
    assert dispatch.running() == "checks"
    assert calls == [], "no function runs before every condition was asked"
    failing = Dispatch([target("ok", None, calls), target("bad", None, calls, fails=True)], None)
    with pytest.raises(RuntimeError):
        failing.step(RECORDS[0])
    assert failing.running() == "bad"
    assert calls == ["ok a", "bad a"]
