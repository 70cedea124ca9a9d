"""Watermarks: how the exactly-once core remembers what it applied.

The unit of bookkeeping is a *lane* on a *target*. A lane is a sequence of records that Lambda
delivers in order, whatever the retries: a source item's records (Lambda keeps per-item order at
every ParallelizationFactor; the shard, which would be a coarser lane under
ParallelizationFactor 1, is not named in a DynamoDB stream event) or, for a tumbling window's
final write, the window itself. A target is what a write changes atomically: a group's item. For
each (lane, target), the target keeps the lane's *watermark*, the SequenceNumber of the lane's
last record applied to it; a record at or below it was applied by an earlier delivery.

A watermark rides in the target item itself, as an attribute ``_w<lane>`` whose Binary value
orders like the SequenceNumber it holds (a length byte, then the number big-endian: sequence
numbers have up to 40 digits, more than a DynamoDB number keeps) followed by the hour it was
written. ``NOT #w >= :first`` is then true exactly when the lane's records from ``:first`` on
are new, and false when any of them was applied. A watermark written more than
:data:`RETENTION_HOURS` ago can be deleted: every record at or below it is older than the
stream's 24-hour retention, so none can come again.

Example:
    >>> value = mark_value(sequence=2024, hour=480_000)
    >>> read_mark(value), value > first_value(2023), value > first_value(2024)
    ((2024, 480000), True, True)
    >>> value < first_value(2025)
    True
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Hashable
from dataclasses import dataclass

__all__ = [
    "MARK_PREFIX",
    "RETENTION_HOURS",
    "Mark",
    "first_value",
    "is_mark_name",
    "lane_of",
    "mark_value",
    "read_mark",
    "stale",
]

#: Attribute name prefix of a watermark in a target item (bookkeeping names start with "_").
MARK_PREFIX = "_w"
#: Lane ids are 96-bit hashes: 16 base64url characters.
LANE_CHARS = 16
#: Hours after its last write when a watermark can go: the 24 h stream retention, plus one hour
#: for clock skew between the writer and the records' creation.
RETENTION_HOURS = 25
_HOUR_BYTES = 3


@dataclass(frozen=True, slots=True)
class Mark:
    """A lane's watermark update in one write: its records ``first`` to ``last`` (sequence
    numbers) are applied by it, on condition that none of them was applied before."""

    lane: str
    first: int
    last: int


def lane_of(namespace: str, *parts: Hashable) -> str:
    """The lane id of a source item (or window) in ``namespace``: 16 base64url characters.

    Two aggregators writing the same target get distinct lanes for the same source item as
    long as their namespaces differ, so their watermarks never mix. 96 bits keep a collision
    between two of the items that touch one target within a day below 1e-19 for 10^5 items.

    Example:
        >>> lane_of("ns", "Transactions", (("TransactionId", '{"S":"1"}'),))
        '31TaCV1KCHbHAuyM'
    """
    text = json.dumps([namespace, *parts], separators=(",", ":"), default=repr)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def _number_bytes(sequence: int) -> bytes:
    if sequence < 0:
        raise ValueError(f"{sequence=} must be >= 0")
    body = sequence.to_bytes(max(1, (sequence.bit_length() + 7) // 8), "big")
    return bytes([len(body)]) + body


def first_value(sequence: int) -> bytes:
    """The condition operand for a write whose lane starts at ``sequence``."""
    return _number_bytes(sequence)


def mark_value(*, sequence: int, hour: int) -> bytes:
    """A stored watermark: ``sequence`` (order-preserving) and the ``hour`` it was written."""
    return _number_bytes(sequence) + (hour % (1 << (8 * _HOUR_BYTES))).to_bytes(_HOUR_BYTES, "big")


def read_mark(value: bytes) -> tuple[int, int] | None:
    """``(sequence, hour)`` of a stored watermark, or None when ``value`` is not one."""
    if len(value) < 2 + _HOUR_BYTES or value[0] != len(value) - 1 - _HOUR_BYTES:
        return None
    body, hour = value[1 : 1 + value[0]], value[1 + value[0] :]
    return int.from_bytes(body, "big"), int.from_bytes(hour, "big")


def is_mark_name(name: str) -> bool:
    """True for an attribute name of the watermark shape (``_w`` + 16 characters)."""
    return len(name) == len(MARK_PREFIX) + LANE_CHARS and name.startswith(MARK_PREFIX)


def stale(hour: int, now_hour: int) -> bool:
    """True when a watermark written at ``hour`` can be deleted at ``now_hour``."""
    age = (now_hour - hour) % (1 << (8 * _HOUR_BYTES))
    return RETENTION_HOURS < age < (1 << (8 * _HOUR_BYTES - 1))
