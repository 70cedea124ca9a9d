"""Both stores answer every claim the same way: the store protocol's semantics, one step at a
time (the DynamoDB store on DynamoDB Local)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ddbstream import UsageError
from ddbstream.once import Claim, DynamoDBStore, Store

from .conftest import Clock


def test_a_free_key_is_claimed_and_a_held_one_is_running(
    make_store: Callable[[], Store], clock: Clock
) -> None:
    store = make_store()
    assert store.claim("k", token="a", lease=30, keep=None, take_over=True) == Claim("claimed")
    held = store.claim("k", token="b", lease=30, keep=None, take_over=True)
    assert held.state == "running"
    assert held.lease_until is not None
    assert abs(held.lease_until - (clock.now + 30)) < 0.01


def test_claiming_again_with_the_same_token_is_a_repeat_of_a_lost_answer(
    make_store: Callable[[], Store],
) -> None:
    store = make_store()
    assert store.claim("k", token="a", lease=30, keep=None, take_over=True).state == "claimed"
    assert store.claim("k", token="a", lease=30, keep=None, take_over=True).state == "claimed"


def test_done_and_failed_are_final_for_every_later_attempt(
    make_store: Callable[[], Store], clock: Clock
) -> None:
    store = make_store()
    store.claim("d", token="a", lease=30, keep=None, take_over=True)
    store.finish("d", token="a", status="done", keep=None)
    store.claim("f", token="a", lease=30, keep=None, take_over=False)
    store.finish("f", token="a", status="failed", keep=None)
    clock.advance(3600)  # leases play no part once an attempt finished
    for take_over in (True, False):
        assert store.claim("d", token="b", lease=30, keep=None, take_over=take_over).state == "done"
        assert store.claim("f", token="b", lease=30, keep=None, take_over=take_over).state == (
            "failed"
        )


def test_an_ended_lease_is_taken_over_or_reported_expired(
    make_store: Callable[[], Store], clock: Clock
) -> None:
    store = make_store()
    store.claim("k", token="a", lease=30, keep=None, take_over=True)
    clock.advance(29)
    assert store.claim("k", token="b", lease=30, keep=None, take_over=True).state == "running"
    clock.advance(2)
    assert store.claim("k", token="b", lease=30, keep=None, take_over=False).state == "expired"
    assert store.claim("k", token="b", lease=30, keep=None, take_over=True).state == "claimed"
    store.finish("k", token="a", status="done", keep=None)  # the crashed attempt, late: ignored
    assert store.claim("k", token="c", lease=30, keep=None, take_over=True).state == "running"
    store.finish("k", token="b", status="done", keep=None)
    assert store.claim("k", token="c", lease=30, keep=None, take_over=True).state == "done"


def test_release_frees_the_key_only_for_its_holder(make_store: Callable[[], Store]) -> None:
    store = make_store()
    store.claim("k", token="a", lease=30, keep=None, take_over=True)
    store.release("k", token="someone else")
    assert store.claim("k", token="b", lease=30, keep=None, take_over=True).state == "running"
    store.release("k", token="a")
    assert store.claim("k", token="b", lease=30, keep=None, take_over=True).state == "claimed"


def test_a_kept_claim_is_forgotten_after_keep_even_before_ttl_deletes_it(
    make_store: Callable[[], Store], clock: Clock
) -> None:
    store = make_store()
    store.claim("k", token="a", lease=30, keep=100, take_over=True)
    store.finish("k", token="a", status="done", keep=100)
    clock.advance(99)
    assert store.claim("k", token="b", lease=30, keep=100, take_over=True).state == "done"
    clock.advance(2)
    assert store.claim("k", token="b", lease=30, keep=100, take_over=True).state == "claimed"


def test_keep_none_keeps_a_claim_forever(make_store: Callable[[], Store], clock: Clock) -> None:
    store = make_store()
    store.claim("k", token="a", lease=30, keep=100, take_over=True)
    store.finish("k", token="a", status="done", keep=None)
    clock.advance(10**8)
    assert store.claim("k", token="b", lease=30, keep=None, take_over=True).state == "done"


def test_of_many_concurrent_claims_exactly_one_wins(make_store: Callable[[], Store]) -> None:
    store = make_store()
    barrier = threading.Barrier(8)

    def claim(n: int) -> str:
        barrier.wait()
        return store.claim("k", token=f"t{n}", lease=30, keep=None, take_over=True).state

    with ThreadPoolExecutor(8) as pool:
        states = list(pool.map(claim, range(8)))
    assert sorted(states) == ["claimed"] + ["running"] * 7


def test_create_table_is_idempotent_and_turns_ttl_on(
    dynamodb_client: Any, store_table: str
) -> None:
    DynamoDBStore(store_table, client=dynamodb_client).create_table()
    ttl = dynamodb_client.describe_time_to_live(TableName=store_table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ExpiresAt"}


def test_a_missing_table_is_a_usage_error(dynamodb_client: Any) -> None:
    store = DynamoDBStore("no-such-table", client=dynamodb_client)
    with pytest.raises(UsageError, match="ResourceNotFoundException"):
        store.claim("k", token="a", lease=30, keep=None, take_over=True)


def test_the_dynamodb_item_is_what_the_docs_say(
    dynamodb_client: Any, store_table: str, clock: Clock
) -> None:
    store = DynamoDBStore(store_table, client=dynamodb_client, clock=clock)
    store.claim("k", token="a", lease=30, keep=100, take_over=True)
    store.finish("k", token="a", status="done", keep=100)
    [item] = dynamodb_client.scan(TableName=store_table)["Items"]
    assert item == {
        "Id": {"S": "k"},
        "Status": {"S": "DONE"},
        "Token": {"S": "a"},
        "LeaseUntil": {"N": str(int((clock.now + 30) * 1000))},
        "ExpiresAt": {"N": str(int(clock.now + 100))},
    }
    assert repr(store) == f"DynamoDBStore({store_table!r})"
