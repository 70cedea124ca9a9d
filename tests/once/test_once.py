"""``Once`` in a Router: one effect per key whatever the redeliveries, claims released or kept
as the guarantee says, a held claim failing its record so the Router stops there, and bad keys
failing their record loudly. Run on both stores."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ddbstream import DataError, EffectInProgress, Router, StreamRecord, UsageError
from ddbstream.aggregate import Retry
from ddbstream.once import MemoryStore, Once, Store
from ddbstream.testing import EventBuilder, FakeLambdaContext

from .conftest import Clock

FAST = Retry(attempts=3, base=0.0)


def users() -> EventBuilder:
    return EventBuilder("Users", keys=("UserId",))


def test_each_change_runs_once_whatever_the_redeliveries(make_store: Callable[[], Store]) -> None:
    builder, runs = users(), []
    router = Router()

    @router.route(None)
    @Once(make_store())
    def effect(record: StreamRecord[Any]) -> None:
        runs.append((record.keys["UserId"], record.event_name.value))

    a = builder.insert({"UserId": "u1", "Name": "Ann"})
    b = builder.modify({"UserId": "u1", "Name": "Ann"}, {"UserId": "u1", "Name": "Ann B"})
    c = builder.insert({"UserId": "u2"})
    for event in ([a], [a, b], [a, b, c], [c]):
        assert router.handle(builder.lambda_event(*event)) == {"batchItemFailures": []}
    assert runs == [("u1", "INSERT"), ("u1", "MODIFY"), ("u2", "INSERT")]


def test_a_user_key_runs_once_per_key_across_items_changes(make_store: Callable[[], Store]) -> None:
    builder, sent = users(), []
    router = Router()

    @router.route(None)
    @Once(make_store(), key=lambda r: f"welcome#{r.keys['UserId']}", keep=None)
    def welcome(record: StreamRecord[Any]) -> None:
        sent.append(record.keys["UserId"])

    item = {"UserId": "u1"}
    records = [builder.insert(item), builder.remove(item), builder.insert(item)]
    router.handle(builder.lambda_event(*records))
    assert sent == ["u1"]


def test_two_effects_of_one_record_have_their_own_claims(make_store: Callable[[], Store]) -> None:
    store, builder, calls = make_store(), users(), []
    router = Router()

    @router.route(None)
    @Once(store)
    def first(record: StreamRecord[Any]) -> None:
        calls.append("first")

    @router.route(None)
    @Once(store)
    def second(record: StreamRecord[Any]) -> None:
        calls.append("second")

    event = builder.lambda_event(builder.insert({"UserId": "u1"}))
    router.handle(event)
    router.handle(event)
    assert calls == ["first", "second"]


def test_at_least_once_releases_a_failed_effect_and_runs_it_on_the_retry(
    make_store: Callable[[], Store],
) -> None:
    builder, attempts = users(), []
    router = Router()

    @router.route(None)
    @Once(make_store())
    def effect(record: StreamRecord[Any]) -> None:
        attempts.append(record.sequence_number)
        if len(attempts) == 1:
            raise ConnectionError("mail server down")

    records = [builder.insert({"UserId": "u1"}), builder.insert({"UserId": "u2"})]
    first = router.handle(builder.lambda_event(*records))
    assert first == {
        "batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
    }
    assert router.handle(builder.lambda_event(*records)) == {"batchItemFailures": []}
    assert router.handle(builder.lambda_event(*records)) == {"batchItemFailures": []}
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert attempts == [seqs[0], seqs[0], seqs[1]]


def test_at_most_once_never_runs_a_failed_effect_again_and_says_so(
    make_store: Callable[[], Store], caplog: pytest.LogCaptureFixture
) -> None:
    builder, attempts = users(), []
    router = Router()

    @router.route(None)
    @Once(make_store(), guarantee="at-most-once")
    def charge(record: StreamRecord[Any]) -> None:
        attempts.append(1)
        raise TimeoutError("no answer from the payment API: charged or not?")

    event = builder.lambda_event(builder.insert({"UserId": "u1"}))
    assert router.handle(event)["batchItemFailures"]
    with caplog.at_level(logging.WARNING, logger="ddbstream.once"):
        assert router.handle(event) == {"batchItemFailures": []}
    assert attempts == [1]
    [warning] = [r for r in caplog.records if r.name == "ddbstream.once"]
    assert "skipped" in warning.getMessage()
    assert "may have run" in warning.getMessage()


def test_at_most_once_releases_on_the_exceptions_that_prove_nothing_happened(
    make_store: Callable[[], Store],
) -> None:
    builder, attempts = users(), []
    router = Router()

    class Refused(Exception):
        pass

    @router.route(None)
    @Once(make_store(), guarantee="at-most-once", release_on=(Refused,))
    def charge(record: StreamRecord[Any]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise Refused("rejected before sending")

    event = builder.lambda_event(builder.insert({"UserId": "u1"}))
    assert router.handle(event)["batchItemFailures"]
    assert router.handle(event) == {"batchItemFailures": []}
    assert attempts == [1, 1]


class Crash(KeyboardInterrupt):
    """The process dies mid-effect (a timeout, out of memory): nothing after it runs."""


@pytest.mark.parametrize("guarantee", ["at-least-once", "at-most-once"])
def test_a_crashed_attempt_holds_its_claim_until_the_lease_ends(
    make_store: Callable[[], Store], clock: Clock, guarantee: Any
) -> None:
    builder, attempts = users(), []
    router = Router()

    @router.route(None)
    @Once(make_store(), guarantee=guarantee, lease=60)
    def effect(record: StreamRecord[Any]) -> None:
        attempts.append(record.keys["UserId"])
        if len(attempts) == 1:
            raise Crash

    records = [builder.insert({"UserId": "u1"}), builder.insert({"UserId": "u2"})]
    event = builder.lambda_event(*records)
    with pytest.raises(Crash):
        router.handle(event)
    result = router.process(event)
    assert [f.item_identifier for f in result.failed] == [records[0]["dynamodb"]["SequenceNumber"]]
    assert isinstance(result.failed[0].exception, EffectInProgress)
    assert result.not_attempted == (records[1]["dynamodb"]["SequenceNumber"],)  # order kept
    clock.advance(61)
    assert router.handle(event) == {"batchItemFailures": []}
    expected = ["u1", "u1", "u2"] if guarantee == "at-least-once" else ["u1", "u2"]
    assert attempts == expected


def test_the_lease_defaults_to_the_invocations_deadline(clock: Clock) -> None:
    store, builder = MemoryStore(clock=clock), users()
    router = Router()

    @router.route(None)
    @Once(store)
    def effect(record: StreamRecord[Any]) -> None:
        raise Crash

    with pytest.raises(Crash):
        router.handle(builder.lambda_event(builder.insert({"UserId": "u1"})),
                      FakeLambdaContext(remaining_ms=30_000))  # fmt: skip
    [entry] = store.entries.values()
    assert entry.status == "running"
    assert entry.lease_until == pytest.approx(clock.now + 31)


def test_a_store_that_keeps_throttling_fails_the_record_before_the_effect() -> None:
    from ddbstream import TransientError

    class Throttled(MemoryStore):
        def claim(self, key: str, **kwargs: Any) -> Any:
            raise TransientError("ThrottlingException: slow down")

    builder, calls = users(), []
    router = Router()

    @router.route(None)
    @Once(Throttled(), retry=FAST)
    def effect(record: StreamRecord[Any]) -> None:
        calls.append(1)

    result = router.process(builder.lambda_event(builder.insert({"UserId": "u1"})))
    assert calls == []
    assert isinstance(result.failed[0].exception, TransientError)
    assert "after 3 attempts" in str(result.failed[0].exception)


def test_a_completion_the_store_cannot_take_is_logged_and_the_record_passes(
    caplog: pytest.LogCaptureFixture, clock: Clock
) -> None:
    from ddbstream import TransientError

    class NoFinish(MemoryStore):
        def finish(self, key: str, **kwargs: Any) -> None:
            raise TransientError("ThrottlingException: slow down")

    store, builder, calls = NoFinish(clock=clock), users(), []
    router = Router()

    @router.route(None)
    @Once(store, retry=FAST, lease=60)
    def effect(record: StreamRecord[Any]) -> None:
        calls.append(1)

    event = builder.lambda_event(builder.insert({"UserId": "u1"}))
    with caplog.at_level(logging.WARNING, logger="ddbstream.once"):
        assert router.handle(event) == {"batchItemFailures": []}
    assert "stays held until its lease ends" in caplog.text
    assert isinstance(router.process(event).failed[0].exception, EffectInProgress)
    assert calls == [1]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (lambda r: r.new_image["Missing"], "raised KeyError"),
        (lambda r: None, "returned None, not a non-empty string"),
        (lambda r: "", "returned '', not a non-empty string"),
        (lambda r: "x" * 3000, "is over 2048 bytes"),
    ],
)
def test_a_bad_key_fails_its_record_with_a_data_error(key: Any, reason: str) -> None:
    builder, calls = users(), []
    router = Router()

    @router.route(None)
    @Once(MemoryStore(), key=key)
    def effect(record: StreamRecord[Any]) -> None:
        calls.append(1)

    record = builder.insert({"UserId": "u1"})
    result = router.process(builder.lambda_event(record))
    error = result.failed[0].exception
    assert isinstance(error, DataError)
    assert reason in str(error)
    assert error.sequence_number == record["dynamodb"]["SequenceNumber"]
    assert calls == []


def test_an_async_effect_completes_before_its_claim_does() -> None:
    store, builder, calls = MemoryStore(), users(), []
    router = Router()

    @router.route(None)
    @Once(store)
    async def effect(record: StreamRecord[Any]) -> None:
        await asyncio.sleep(0)
        calls.append([e.status for e in store.entries.values()])

    router.handle(builder.lambda_event(builder.insert({"UserId": "u1"})))
    assert calls == [["running"]]
    assert [e.status for e in store.entries.values()] == ["done"]


@dataclass
class User:
    UserId: str
    Email: str


def test_a_typed_route_gets_its_model(make_store: Callable[[], Store]) -> None:
    builder, sent = users(), []
    router = Router()

    @router.route(None, model=User)
    @Once(make_store(), key=lambda r: f"welcome#{r.keys['UserId']}")
    def welcome(record: StreamRecord[User]) -> None:
        sent.append(record.require_new().Email)

    router.handle(builder.lambda_event(builder.insert({"UserId": "u1", "Email": "a@x"})))
    assert sent == ["a@x"]
    assert router.routes[0].name == "welcome"


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="store"):
        Once(object())  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="guarantee"):
        Once(MemoryStore(), guarantee="exactly-once")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="lease"):
        Once(MemoryStore(), lease=0)
    with pytest.raises(UsageError, match="release_on"):
        Once(MemoryStore(), release_on=(ValueError,))
    with pytest.raises(UsageError, match="release_on"):
        Once(MemoryStore(), guarantee="at-most-once", release_on=ValueError)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="function"):
        Once(MemoryStore())(42)  # type: ignore[arg-type]


def test_repr_is_the_constructor() -> None:
    assert repr(Once(MemoryStore())) == "Once(MemoryStore())"
    once = Once(MemoryStore(), guarantee="at-most-once", keep=None, namespace="mail")
    assert (
        repr(once) == "Once(MemoryStore(), guarantee='at-most-once', namespace='mail', keep=None)"
    )
