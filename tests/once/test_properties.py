"""Properties under any at-least-once delivery schedule of ``ddbstream.testing`` (duplicates,
replays, partial failures, crashes between any two writes, ParallelizationFactor > 1):

* ``Once`` at least once runs every change's effect, and twice only for a crash between the
  effect and its completion;
* ``Once`` at most once never runs an effect twice, and misses one only for a crash between
  its claim and its completion;
* the outbox holds exactly one message per user, the email of the user's first INSERT.

On the in-memory stores here; on DynamoDB Local, with throttling and lost answers on top, in
``test_properties_dynamodb.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ddbstream import Router, StreamRecord
from ddbstream.once import MemoryOutbox, MemoryStore, Once, Outbox, Store
from ddbstream.testing.strategies import change_histories, deliveries

from ._play import (
    LEASE,
    PROFILES,
    USERS,
    CountingOutbox,
    CountingStore,
    Writes,
    fail_route,
    first_emails,
    play,
)
from .conftest import Clock

FACTORS = st.sampled_from([1, 1, 2, 4])


def effects_router(
    store: Store, writes: Writes, failing: list[str | None], **once: Any
) -> tuple[Router, list[str]]:
    router, log = Router(), []

    @router.route(None)
    @Once(CountingStore(store, writes), lease=LEASE, **once)
    def effect(record: StreamRecord[Any]) -> None:
        writes.step("effect")
        log.append(record.sequence_number)

    fail_route(router, failing)
    return router, log


def check_at_least_once(log: list[str], records: Any, writes: Writes) -> None:
    counts = Counter(log)
    assert set(counts) == {r["dynamodb"]["SequenceNumber"] for r in records}
    repeats = sum(n - 1 for n in counts.values())
    assert repeats <= writes.crashes_in.count("effect")


def check_at_most_once(log: list[str], records: Any, writes: Writes) -> None:
    counts = Counter(log)
    assert set(counts.values()) <= {1}
    missed = len(records) - len(counts)
    assert missed <= len([c for c in writes.crashes_in if c in ("claimed", "effect")])


@given(history=change_histories(max_changes=16), data=st.data(), factor=FACTORS)
def test_at_least_once_runs_every_change(history: Any, data: st.DataObject, factor: int) -> None:
    clock, writes, failing = Clock(), Writes(), [None]
    router, log = effects_router(MemoryStore(clock=clock), writes, failing)
    schedule = data.draw(
        deliveries(history.records, max_batch_size=4, parallelization_factor=factor)
    )
    play(schedule, router.handle, writes=writes, failing=failing, clock=clock)
    check_at_least_once(log, history.records, writes)


@given(history=change_histories(max_changes=16), data=st.data(), factor=FACTORS)
def test_at_most_once_never_repeats(history: Any, data: st.DataObject, factor: int) -> None:
    clock, writes, failing = Clock(), Writes(), [None]
    router, log = effects_router(
        MemoryStore(clock=clock), writes, failing, guarantee="at-most-once"
    )
    schedule = data.draw(
        deliveries(history.records, max_batch_size=4, parallelization_factor=factor)
    )
    play(schedule, router.handle, writes=writes, failing=failing, clock=clock)
    check_at_most_once(log, history.records, writes)


def welcome_router(outbox: Outbox, failing: list[str | None], prefix: str = "") -> Router:
    router = Router()

    @router.route(None)
    def welcome(record: StreamRecord[Any]) -> None:
        user = record.new_image
        if record.event_name.value == "INSERT" and user is not None and "Email" in user:
            outbox.put(f"{prefix}welcome#{user['UserId']}", {"To": user["Email"]})

    fail_route(router, failing)
    return router


@given(
    history=change_histories(keys=USERS, attributes=PROFILES, max_changes=16),
    data=st.data(),
    factor=FACTORS,
)
def test_the_outbox_holds_one_message_per_user(
    history: Any, data: st.DataObject, factor: int
) -> None:
    clock, writes, failing = Clock(), Writes(), [None]
    outbox = MemoryOutbox(created_attribute=None)
    router = welcome_router(CountingOutbox(outbox, writes), failing)
    schedule = data.draw(
        deliveries(history.records, max_batch_size=4, parallelization_factor=factor)
    )
    play(schedule, router.handle, writes=writes, failing=failing, clock=clock)
    assert {k: m["To"] for k, m in outbox.messages.items()} == first_emails(history.records)
