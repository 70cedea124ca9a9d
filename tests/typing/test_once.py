"""Static types of ddbstream.once: checked by ``mypy --strict tests/typing`` and pyright, and
executed by pytest. ``Once`` keeps the route function's record type, so a route typed with
``model=User`` gets ``StreamRecord[User]`` and its images as ``User``; the stores and outboxes
satisfy their protocols."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from typing_extensions import assert_type

from ddbstream import Router, StreamRecord
from ddbstream.once import Claim, MemoryOutbox, MemoryStore, Once, Outbox, Store
from ddbstream.testing import insert, lambda_event


@dataclasses.dataclass
class User:
    UserId: str
    Email: str


def test_once_keeps_the_records_model() -> None:
    router, sent = Router(), list[str]()
    store: Store = MemoryStore()

    def welcome(record: StreamRecord[User]) -> None:
        user = record.require_new()
        assert_type(user, User)
        sent.append(user.Email)

    guarded = Once(store, key=lambda r: f"welcome#{r.keys['UserId']}")(welcome)
    assert_type(guarded, Callable[[StreamRecord[User]], None])
    router.route(None, model=User)(guarded)
    router.handle(lambda_event(insert({"UserId": "u1", "Email": "a@x"})))
    assert sent == ["a@x"]


def test_the_memory_implementations_satisfy_the_protocols() -> None:
    outbox: Outbox = MemoryOutbox()
    assert_type(outbox.put("m", {"To": "a"}), bool)
    claim = MemoryStore().claim("k", token="t", lease=1.0, keep=None, take_over=True)
    assert_type(claim, Claim)
