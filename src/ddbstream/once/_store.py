"""Where once-per-key claims live: the :class:`Store` protocol and the in-memory store.

A claim is one record per key: its status (running, done or failed), the token of the attempt
that holds it, when that attempt's lease ends, and when the record may be forgotten. Every
operation is one atomic step on that record, so a store is correct under concurrent attempts as
long as each step is (a conditional write in DynamoDB, a lock in memory).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Protocol

__all__ = ["Claim", "ClaimState", "Entry", "MemoryStore", "Store"]

ClaimState = Literal["claimed", "done", "failed", "running", "expired"]
"""What a claim attempt found:

* ``claimed``: the key is this attempt's now; run the effect.
* ``done``: an earlier attempt completed the effect.
* ``failed``: an earlier at-most-once attempt raised; the effect may have run.
* ``running``: another attempt holds the key and its lease has not ended.
* ``expired``: an attempt held the key, and its lease ended before it completed (it crashed or
  timed out); only reported when the claim was made with ``take_over=False``.
"""


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to :meth:`Store.claim`: ``state``, and for ``running`` the end of the lease
    (epoch seconds)."""

    state: ClaimState
    lease_until: float | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored claim, as :class:`MemoryStore` keeps it (times in epoch seconds)."""

    status: Literal["running", "done", "failed"]
    token: str
    lease_until: float
    expires_at: float | None


class Store(Protocol):
    """The claims of once-per-key effects: each method is one atomic step on one key.

    ``lease`` and ``keep`` are seconds from now (the store's clock); ``keep=None`` keeps the
    record forever. A record whose ``keep`` has passed counts as absent, whether or not it has
    been deleted yet (DynamoDB's TTL deletes within days, not at once).

    A store raises :class:`~ddbstream.TransientError` for what may pass on a retry (throttling,
    a lost answer: every method is safe to repeat with the same token), and
    :class:`~ddbstream.UsageError` for what cannot (a missing table).
    """

    def claim(
        self, key: str, *, token: str, lease: float, keep: float | None, take_over: bool
    ) -> Claim:
        """Take ``key`` for the attempt ``token`` if it is free (absent, forgotten, or already
        held by ``token``), or, with ``take_over``, held by an attempt whose lease has ended."""
        ...

    def finish(
        self, key: str, *, token: str, status: Literal["done", "failed"], keep: float | None
    ) -> None:
        """Record the outcome of the attempt ``token``; nothing if another attempt holds ``key``
        now (its lease ended and it was taken over)."""
        ...

    def release(self, key: str, *, token: str) -> None:
        """Forget ``key`` if the attempt ``token`` still holds it, so the next one runs the
        effect."""
        ...


class MemoryStore:
    """A :class:`Store` in a dict, with the DynamoDB store's semantics, for tests.

    Args:
        clock: the time in epoch seconds (default: ``time.time``); a test moves it forward to
            end a lease.

    Example:
        >>> store = MemoryStore()
        >>> store.claim("k", token="t1", lease=60, keep=None, take_over=True)
        Claim(state='claimed', lease_until=None)
        >>> store.claim("k", token="t2", lease=60, keep=None, take_over=True).state
        'running'
        >>> store.finish("k", token="t1", status="done", keep=None)
        >>> store.claim("k", token="t2", lease=60, keep=None, take_over=True)
        Claim(state='done', lease_until=None)
    """

    __slots__ = ("_clock", "_entries", "_lock")

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            "MemoryStore()" if self._clock is time.time else f"MemoryStore(clock={self._clock!r})"
        )

    @property
    def entries(self) -> Mapping[str, Entry]:
        """The stored claims by key, forgotten ones excluded (a read-only view of a copy)."""
        now = self._clock()
        with self._lock:
            live = {k: e for k, e in self._entries.items() if not _forgotten(e, now)}
        return MappingProxyType(live)

    def claim(
        self, key: str, *, token: str, lease: float, keep: float | None, take_over: bool
    ) -> Claim:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and not _forgotten(entry, now) and entry.token != token:
                if entry.status != "running":
                    return Claim(entry.status)
                if entry.lease_until >= now:
                    return Claim("running", entry.lease_until)
                if not take_over:
                    return Claim("expired")
            self._entries[key] = Entry("running", token, now + lease, _until(now, keep))
            return Claim("claimed")

    def finish(
        self, key: str, *, token: str, status: Literal["done", "failed"], keep: float | None
    ) -> None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.token == token:
                self._entries[key] = Entry(status, token, entry.lease_until, _until(now, keep))

    def release(self, key: str, *, token: str) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.token == token:
                del self._entries[key]


def _forgotten(entry: Entry, now: float) -> bool:
    return entry.expires_at is not None and entry.expires_at < now


def _until(now: float, keep: float | None) -> float | None:
    return None if keep is None else now + keep
