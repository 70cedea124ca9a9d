"""An in-memory projection target with the DynamoDB sink's semantics, for tests.

Each change is applied on its own, atomically, if it is newer than the version the target holds
for its key (the item's, or a deletion's tombstone). A ``fault`` hook sees every change before
and after it is applied and may raise: :class:`~ddbstream.TransientError` before (a throttled
write) or after (the write landed but its answer was lost), or any other exception to simulate
a crash of the handler between writes.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

from .._errors import TransientError
from ._sink import Change, Failed, KeyId, Outcome, Superseded, Written, key_id, key_names

__all__ = ["MemorySink"]

Phase = Literal["before", "after"]
Fault = Callable[[Change, Phase], None]


class MemorySink:
    """Projected items kept in a dict: the same versions and tombstones as :class:`DynamoDBSink`.

    Args:
        key: the target's key attribute names (one, or a partition and a sort key).
        fault: ``fault(change, phase)``, called with phase ``"before"`` and ``"after"`` applying
            each change; it may raise to inject faults.
        name: what :attr:`name` reports (logs, telling projections apart).

    Example:
        >>> from ddbstream.project import MemorySink, Projection
        >>> from ddbstream.testing import EventBuilder
        >>> users = EventBuilder("Users", keys=("UserId",))
        >>> sink = MemorySink(key="UserId")
        >>> search = Projection(lambda user: {"UserId": user["UserId"], "Name": user["Name"]},
        ...                     sink=sink)
        >>> user = {"UserId": "u1", "Name": "Ann", "Email": "ann@example.com"}
        >>> search.handle(users.lambda_event([users.insert(user)]), None)
        {'batchItemFailures': []}
        >>> sink.items()
        [{'UserId': 'u1', 'Name': 'Ann'}]
        >>> _ = search.handle(users.lambda_event([users.remove(user)]), None)
        >>> sink.items(), len(sink.tombstones())
        ([], 1)
    """

    __slots__ = ("_fault", "_items", "_lock", "_name", "_tombstones", "key")

    def __init__(
        self, *, key: str | Sequence[str], fault: Fault | None = None, name: str | None = None
    ) -> None:
        self.key = key_names(key)
        self._fault = fault
        self._name = name
        self._items: dict[KeyId, tuple[dict[str, Any], int]] = {}
        self._tombstones: dict[KeyId, int] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        key = self.key[0] if len(self.key) == 1 else self.key
        name = "" if self._name is None else f", name={self._name!r}"
        return f"MemorySink(key={key!r}{name})"

    @property
    def name(self) -> str | None:
        return self._name

    def write(self, changes: Sequence[Change]) -> list[Outcome]:
        """Apply each change if newer than the stored version (see :class:`Sink`)."""
        return [self._one(change) for change in changes]

    def _one(self, change: Change) -> Outcome:
        if self._fault is not None:
            try:
                self._fault(change, "before")
            except TransientError as exc:
                return Failed(exc)
        ident = key_id(change.key, self.key)
        with self._lock:
            stored = max(self._items.get(ident, ({}, -1))[1], self._tombstones.get(ident, -1))
            if stored >= change.version:
                return Superseded(stored)
            if change.item is None:
                self._items.pop(ident, None)
                self._tombstones[ident] = change.version
            else:
                self._items[ident] = (copy.deepcopy(dict(change.item)), change.version)
        if self._fault is not None:
            try:
                self._fault(change, "after")
            except TransientError as exc:
                return Failed(exc)
        return Written()

    def items(self) -> list[dict[str, Any]]:
        """The projected items (without bookkeeping), in key order."""
        with self._lock:
            return [copy.deepcopy(self._items[k][0]) for k in sorted(self._items)]

    def versions(self) -> dict[KeyId, int]:
        """The version of each projected item, by key identity (bookkeeping, if you ask)."""
        with self._lock:
            return {k: version for k, (_, version) in self._items.items()}

    def tombstones(self) -> dict[KeyId, int]:
        """The version of each deletion, by key identity (bookkeeping, if you ask)."""
        with self._lock:
            return dict(self._tombstones)
