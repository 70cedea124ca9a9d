"""What a projection hands its target: :class:`Change` objects, and the :class:`Sink` protocol.

A sink applies each change to one target item *if it is newer than what the target holds*: a
change carries the SequenceNumber of the source record it comes from as its ``version``, and a
target keeps, beside each item it holds (and each item it deleted, for a while: a tombstone),
the version that wrote it. A sink answers, per change, :class:`Written`, :class:`Superseded`
(the target holds this version or a newer one: nothing was written) or :class:`Failed`.

SequenceNumbers have up to 40 digits: more than an ``int64`` (19 digits) or a DynamoDB number
(38 digits) holds. :func:`version_text` writes one as 40 zero-padded digits, which any target
that compares strings (a SQL ``TEXT``/``CHAR(40)`` column, a keyword field, a DynamoDB ``S``)
orders exactly as the numbers.

Example:
    >>> version_text(4200000000000000000001)
    '0000000000000000004200000000000000000001'
    >>> version_text(9) < version_text(10)
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .._codec import serialize
from .._errors import DDBStreamError, UsageError

__all__ = [
    "VERSION_DIGITS",
    "Change",
    "Failed",
    "KeyId",
    "Outcome",
    "Sink",
    "Superseded",
    "Written",
    "key_id",
    "key_names",
    "version_text",
]

#: The most digits a DynamoDB Streams SequenceNumber has (AWS: 21 to 40 characters).
VERSION_DIGITS = 40


def version_text(version: int) -> str:
    """``version`` (a SequenceNumber) as 40 zero-padded digits: strings that order as the
    numbers do.

    Raises:
        UsageError: ``version`` is negative or longer than 40 digits.
    """
    text = str(version)
    if isinstance(version, bool) or version < 0 or len(text) > VERSION_DIGITS:
        raise UsageError(f"a version is a SequenceNumber of 1 to 40 digits, got {version!r}")
    return text.zfill(VERSION_DIGITS)


@dataclass(frozen=True, slots=True)
class Change:
    """The newest change of one target item in a batch.

    Attributes:
        key: the target item's key attributes (plain Python values).
        item: the whole target item, its key included (plain Python values), or ``None`` to
            delete it.
        version: the SequenceNumber of the source record the change comes from: write only if
            the target holds an older version (or none), and keep it beside the item (or, for a
            deletion, in a tombstone) so that an older record delivered later changes nothing.
        created: a hint, not a promise: the change probably creates the item (the source record
            is an INSERT, or the item is new in the projection). A sink may use it to pick the
            cheaper request; it must stay correct either way.
    """

    key: Mapping[str, Any]
    item: Mapping[str, Any] | None
    version: int
    created: bool = field(default=False, compare=False)

    @property
    def version_text(self) -> str:
        """:attr:`version` as 40 zero-padded digits (see :func:`version_text`)."""
        return version_text(self.version)


@dataclass(frozen=True, slots=True)
class Written:
    """The change landed."""


@dataclass(frozen=True, slots=True)
class Superseded:
    """Nothing was written: the target holds ``version``, at or past the change's version."""

    version: int


@dataclass(frozen=True, slots=True)
class Failed:
    """Nothing was written. A :class:`~ddbstream.TransientError` is retried with backoff; any
    other error fails the records behind the change (a :class:`~ddbstream.ProjectionError` for
    an item the target refuses)."""

    error: DDBStreamError


Outcome = Written | Superseded | Failed


@runtime_checkable
class Sink(Protocol):
    """Where a projection writes (structural type: see :class:`MemorySink` and
    :class:`DynamoDBSink`; a search index or a SQL table implements the same three members).

    ``write`` receives at most one change per target item per call, and may apply them in any
    order (each on its own, atomically); it answers one outcome per change, in order. It raises
    only for what no retry can mend (a missing table: :class:`~ddbstream.UsageError`).
    """

    @property
    def name(self) -> str | None:
        """What the sink writes to (a table name), for logs and for telling projections apart."""

    @property
    def key(self) -> tuple[str, ...]:
        """The target's key attribute names (one or two)."""

    def write(self, changes: Sequence[Change]) -> Sequence[Outcome]:
        """Apply each change if it is newer than what the target holds; one outcome each."""


def key_names(key: str | Sequence[str]) -> tuple[str, ...]:
    """A sink's ``key=`` argument as a tuple of one or two attribute names.

    Raises:
        UsageError: not one or two non-empty names.
    """
    names = (key,) if isinstance(key, str) else tuple(key)
    if not 1 <= len(names) <= 2 or not all(isinstance(n, str) and n for n in names):
        raise UsageError(f"key must be one or two attribute names, got {key!r}")
    return names


#: A hashable identity of a target key: each key value as canonical descriptor JSON.
KeyId = tuple[str, ...]


def key_id(key: Mapping[str, Any], names: Sequence[str]) -> KeyId:
    """The identity of the target key ``key`` (attributes ``names``, in that order)."""
    return tuple(
        json.dumps(serialize(key[n]), sort_keys=True, separators=(",", ":")) for n in names
    )
