"""Hardening of the Router (issue 11): whatever a route condition or function raises or returns,
``BaseException`` subclasses included, the batch ends in a correct partial batch response (every
record processed, failed, dead-lettered or not attempted, exactly once, in order), or propagates
as Python demands (``KeyboardInterrupt``, ``SystemExit``); no record is lost, and the caller's
event is never changed."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import BatchResult, DDBStreamError, FailurePolicy, RecordFailure, Router
from ddbstream.testing import insert, kinesis_event, lambda_event, modify, pipes_event, remove

from ._bounds import call_bounded
from ._json_like import corrupted


class Stop(BaseException):
    """A BaseException that is neither KeyboardInterrupt nor SystemExit."""


async def _coroutine(outcome: str) -> None:
    await asyncio.sleep(0)
    if outcome == "async raises":
        raise RuntimeError("async boom")


def _generator() -> Any:
    yield "never run"


async def _async_generator() -> Any:
    yield "never run"


#: What a route function (or condition) does for one record, and whether the record fails.
OUTCOMES: dict[str, bool] = {
    "ok": False,
    "returns a value": False,
    "awaitable": False,
    "partial of async def": False,
    "raises Exception": True,
    "raises ValueError": True,
    "raises BaseException": True,
    "raises CancelledError": True,
    "raises GeneratorExit": True,
    "async raises": True,
    "returns a generator": True,
    "returns an async generator": True,
}


def act(outcome: str) -> object:
    """Do what ``outcome`` says; return what the route function returns."""
    raising: dict[str, BaseException] = {
        "raises Exception": Exception("boom"),
        "raises ValueError": ValueError("bad"),
        "raises BaseException": Stop(),
        "raises CancelledError": asyncio.CancelledError(),
        "raises GeneratorExit": GeneratorExit(),
    }
    if outcome in raising:
        raise raising[outcome]
    returns: dict[str, Callable[[], object]] = {
        "ok": lambda: None,
        "returns a value": lambda: {"ResponseMetadata": {}},
        "awaitable": lambda: _coroutine("ok"),
        "async raises": lambda: _coroutine(outcome),
        "partial of async def": functools.partial(_coroutine, "ok"),
        "returns a generator": _generator,
        "returns an async generator": _async_generator,
    }
    return returns[outcome]()


#: What a route condition does for one record: match, skip, or raise.
CONDITIONS = ["match", "skip", *(outcome for outcome in OUTCOMES if outcome.startswith("raises"))]

ENVELOPES = {"lambda": lambda_event, "kinesis": kinesis_event, "pipes": pipes_event}


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, Any, list[str], list[str], str]:
    """An event of ``n`` records, what each record's condition and function do, a policy."""
    n = draw(st.integers(1, 8))
    makers = [insert, lambda item: modify(item, {**item, "v": 2}), remove]
    records = [draw(st.sampled_from(makers))({"pk": str(i), "v": 1}) for i in range(n)]
    envelope = draw(st.sampled_from(sorted(ENVELOPES)))
    event = ENVELOPES[envelope](*records)
    conditions = draw(st.lists(st.sampled_from(CONDITIONS), min_size=n, max_size=n))
    functions = draw(st.lists(st.sampled_from(list(OUTCOMES)), min_size=n, max_size=n))
    return envelope, event, conditions, functions, draw(st.sampled_from(["stop", "continue"]))


def _index(record: Any) -> int:
    return int(record.keys["pk"])


def check_accounting(result: BatchResult, n: int, envelope: str, policy: str) -> None:
    """Every record is in exactly one of processed, failed, dead-lettered, not attempted, in
    batch order, and the response reports what Lambda must retry."""
    failed = [f.index for f in result.failed]
    dead = [f.index for f in result.dead_lettered]
    processed = [_index(r) for r in result.processed]
    assert failed == sorted(failed)
    assert processed == sorted(processed)
    counted = len(processed) + len(failed) + len(dead) + len(result.not_attempted)
    assert counted == n, (processed, failed, dead, result.not_attempted)
    assert len({*processed, *failed, *dead}) == len(processed) + len(failed) + len(dead)
    ids = [f.item_identifier for f in result.failed] + list(result.not_attempted)
    reported = [entry["itemIdentifier"] for entry in result.response()["batchItemFailures"]]
    if policy == "stop":
        assert len(failed) <= 1
        if failed:
            assert not result.not_attempted or len(result.not_attempted) == n - failed[0] - 1
        assert reported == (ids if envelope == "pipes" else ids[:1])
    else:
        assert reported == ids


@given(scenarios())
def test_whatever_a_route_does_the_response_is_correct(
    scenario: tuple[str, Any, list[str], list[str], str],
) -> None:
    envelope, event, conditions, functions, policy = scenario
    ran: list[int] = []

    def condition(record: Any) -> bool:
        what = conditions[_index(record)]
        if what in ("match", "skip"):
            return what == "match"
        act(what)
        return True

    def function(record: Any) -> object:
        ran.append(_index(record))
        return act(functions[_index(record)])

    router = Router(policy=policy)
    router.add(condition, function)
    result = call_bounded(router.process, event)
    assert isinstance(result, BatchResult), result
    n = len(conditions)
    check_accounting(result, n, envelope, policy)
    fails = [
        conditions[i] not in ("match", "skip")
        or (conditions[i] == "match" and OUTCOMES[functions[i]])
        for i in range(n)
    ]
    expected_failed = [i for i, fail in enumerate(fails) if fail]
    if policy == "stop":
        expected_failed = expected_failed[:1]
    assert [f.index for f in result.failed] == expected_failed
    last = expected_failed[0] if policy == "stop" and expected_failed else n - 1
    assert ran == [i for i in range(last + 1) if conditions[i] == "match"]
    for failure in result.failed:
        assert isinstance(failure, RecordFailure)
        assert failure.route == "function"


def _with_corruption(scenario: Any) -> Any:
    event = scenario[1]
    return st.tuples(
        st.just(scenario), corrupted(event) if scenario[0] == "lambda" else st.just(event)
    )


@given(scenarios().flatmap(_with_corruption))
def test_a_corrupted_event_fails_records_not_the_router(scenario: Any) -> None:
    (envelope, _, _, _, policy), event = scenario
    seen: list[object] = []
    router = Router(policy=policy, dead_letter=seen.append)
    router.add(lambda r: r.new_image is not None and "v" in r.new_image, lambda r: r.new["v"])
    router.default(lambda r: r.keys.to_dict())
    result = call_bounded(router.process, event)
    if isinstance(result, DDBStreamError):
        return  # a record without an item identifier: the whole batch is retried
    records = event if envelope == "pipes" else event["Records"]
    check_accounting_loose(result, len(records))


def check_accounting_loose(result: BatchResult, n: int) -> None:
    seen = [f.index for f in (*result.failed, *result.dead_lettered)]
    counted = len(result.processed) + len(seen) + len(result.not_attempted)
    assert counted == n


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("where", ["condition", "function"])
def test_keyboard_interrupt_and_system_exit_propagate(
    error: type[BaseException], where: str
) -> None:
    def boom(record: Any) -> bool:
        raise error

    router = Router(policy=FailurePolicy.CONTINUE)
    router.add(boom if where == "condition" else None, boom if where == "function" else print)
    with pytest.raises(error):
        router.handle(lambda_event(insert({"pk": "a"})))
