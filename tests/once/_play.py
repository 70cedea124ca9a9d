"""Playing a ``ddbstream.testing`` delivery schedule to a handler, with the faults it asks for.

Every write of an invocation (a claim, a completion, a release, an effect, an outbox put) goes
through :class:`Writes`, which crashes the invocation once ``crash_after_writes`` of them have
landed: the crash is a ``KeyboardInterrupt`` subclass, so it passes through the Router and
``Once`` as a real process death does (nothing after it runs, nothing is released). A
delivery's ``fail_at`` is a route after the effect that fails that record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Literal

from hypothesis import strategies as st

from ddbstream import Router, StreamRecord
from ddbstream.once import Claim, Outbox, Store
from ddbstream.testing import DeliverySchedule

from .conftest import Clock

LEASE = 60.0


class Crash(KeyboardInterrupt):
    """The invocation dies (timeout, out of memory)."""


class Writes:
    """The writes of the running invocation, and the crash it is scheduled to die of.

    ``phase`` is where the effect under way stands: ``claimed`` once its claim was sent,
    ``effect`` once the effect ran, empty again once its completion (or release) landed. A crash
    records the phase it interrupted.
    """

    def __init__(self) -> None:
        self.left: int | None = None
        self.phase = ""
        self.crashes_in: list[str] = []

    def arm(self, after: int | None) -> None:
        self.left = after

    def step(self, kind: str) -> None:
        if self.left is not None:
            if self.left == 0:
                self.left = None
                self.crashes_in.append(self.phase)
                self.phase = ""
                raise Crash
            self.left -= 1
        if kind == "effect":
            self.phase = "effect"


class CountingStore:
    """A store whose every step (every attempt of it) is a write of the invocation."""

    def __init__(self, store: Store, writes: Writes) -> None:
        self.store, self.writes = store, writes

    def claim(
        self, key: str, *, token: str, lease: float, keep: float | None, take_over: bool
    ) -> Claim:
        self.writes.step("claim")
        self.writes.phase = "claimed"  # sent: it may land, whatever this call answers
        claim = self.store.claim(key, token=token, lease=lease, keep=keep, take_over=take_over)
        if claim.state != "claimed":
            self.writes.phase = ""
        return claim

    def finish(
        self, key: str, *, token: str, status: Literal["done", "failed"], keep: float | None
    ) -> None:
        self.writes.step("finish")
        self.store.finish(key, token=token, status=status, keep=keep)
        self.writes.phase = ""

    def release(self, key: str, *, token: str) -> None:
        self.writes.step("release")
        self.store.release(key, token=token)
        self.writes.phase = ""


class CountingOutbox:
    def __init__(self, outbox: Outbox, writes: Writes) -> None:
        self.outbox, self.writes = outbox, writes

    def put(self, message_id: str, message: Any) -> bool:
        self.writes.step("put")
        return self.outbox.put(message_id, message)


def fail_route(router: Router, failing: list[str | None]) -> None:
    """Register a last route that fails the record whose SequenceNumber is ``failing[0]``."""

    @router.route(None)
    def fault(record: StreamRecord[Any]) -> None:
        if record.sequence_number == failing[0]:
            raise RuntimeError("injected failure of this record")


def play(
    schedule: DeliverySchedule,
    handler: Callable[[dict[str, Any]], Any],
    *,
    writes: Writes,
    failing: list[str | None],
    clock: Clock,
) -> None:
    """Deliver ``schedule``; after a crash, time passes beyond every lease (Lambda retries a
    timed-out invocation after its deadline)."""
    for delivery in schedule:
        seq = None
        if delivery.fail_at is not None:
            seq = delivery.batch[delivery.fail_at]["dynamodb"]["SequenceNumber"]
        failing[0] = seq
        writes.arm(delivery.crash_after_writes)
        try:
            response = handler(delivery.event)
        except Crash:
            clock.advance(LEASE + 1)
            continue
        finally:
            writes.arm(None)
        expected = [] if seq is None else [{"itemIdentifier": seq}]
        assert response == {"batchItemFailures": expected}


USERS = st.sampled_from([{"UserId": f"u{n}"} for n in range(4)])
PROFILES = st.fixed_dictionaries(
    {}, optional={"Email": st.sampled_from(["a@x", "b@x", "c@x"]), "Name": st.sampled_from("AB")}
)


def first_emails(records: Any) -> dict[str, str]:
    """``welcome#<UserId>`` -> the email of the user's first INSERT that carried one."""
    out: dict[str, str] = {}
    for raw in records:
        record = StreamRecord(raw)
        new = record.new_image
        if record.event_name.value == "INSERT" and new is not None and "Email" in new:
            out.setdefault(f"welcome#{new['UserId']}", new["Email"])
    return out


def run_id() -> str:
    return uuid.uuid4().hex[:8]
