"""Records as the runner keeps them, and batches cut at BatchSize and Lambda's 6 MB.

Lambda serialises the event it sends, so nothing a handler does to its event reaches the event
source mapping. The runner keeps each record as an :class:`Entry`: its JSON text (what every
invocation, retry and on-failure payload is built from) and the identity it needs itself
(SequenceNumber, eventID, creation time), read once before any handler runs. A handler that
pops ``dynamodb`` or rewrites ``SequenceNumber`` therefore changes nothing the runner reads,
retries or checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import DecodeError
from ._config import MAX_PAYLOAD_BYTES

__all__ = ["Entry", "cut_batches", "event_text", "to_entries"]

_ENVELOPE_BYTES = len('{"Records":[]}')


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One stream record: its identity and its exact JSON text.

    Attributes:
        sequence_number: ``dynamodb.SequenceNumber`` (digits).
        event_id: ``eventID``, when the record has one.
        created: ``dynamodb.ApproximateCreationDateTime`` in epoch seconds, when numeric.
        text: the record as compact JSON.
    """

    sequence_number: str
    event_id: str | None
    created: float | None
    text: str

    def record(self) -> dict[str, Any]:
        """A fresh copy of the record (what a handler may change at will)."""
        value: dict[str, Any] = json.loads(self.text)
        return value


def _entry(index: int, record: object) -> Entry:
    if not isinstance(record, Mapping):
        raise DecodeError(f"a record must be an object, not {type(record).__name__}", path=(index,))
    event_id = record.get("eventID")
    event_id = event_id if isinstance(event_id, str) else None
    dynamodb = record.get("dynamodb")
    if not isinstance(dynamodb, Mapping):
        dynamodb = {}
    sequence = dynamodb.get("SequenceNumber")
    if not isinstance(sequence, str) or not sequence.isdigit() or not sequence.isascii():
        raise DecodeError(
            f"SequenceNumber {sequence!r:.60} is not a string of digits",
            path=(index, "dynamodb", "SequenceNumber"),
            event_id=event_id,
        )
    when = dynamodb.get("ApproximateCreationDateTime")
    created = (
        float(when)
        if isinstance(when, (int, float)) and not isinstance(when, bool) and math.isfinite(when)
        else None
    )
    try:
        text = json.dumps(record, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise DecodeError(
            f"the record is not JSON: {exc}"[:200],
            path=(index,),
            event_id=event_id,
            sequence_number=sequence,
        ) from None
    return Entry(sequence, event_id, created, text)


def to_entries(records: Sequence[object]) -> list[Entry]:
    """Read each Lambda-shaped record's identity and JSON text, before any handler runs.

    Raises:
        DecodeError: a record is not an object, lacks a digit SequenceNumber or is not JSON
            (the error names its index and, when known, its eventID).

    Example:
        >>> record = {"eventID": "1", "dynamodb": {"SequenceNumber": "100"}}
        >>> [(e.sequence_number, e.event_id) for e in to_entries([record])]
        [('100', '1')]
    """
    return [_entry(index, record) for index, record in enumerate(records)]


def event_text(entries: Sequence[Entry], extra: Mapping[str, Any] | None = None) -> str:
    """The JSON text of the event ``{"Records": [...], **extra}`` for these entries."""
    text = '{"Records":[' + ",".join(e.text for e in entries) + "]"
    if extra:
        text += "," + json.dumps(dict(extra), separators=(",", ":"))[1:-1]
    return text + "}"


def cut_batches(
    entries: Sequence[Entry], batch_size: int, limit: int = MAX_PAYLOAD_BYTES
) -> list[list[Entry]]:
    """Split entries into batches of at most ``batch_size`` records and ``limit`` bytes of
    event JSON (a record alone above the limit still makes a batch of one)."""
    batches: list[list[Entry]] = []
    current: list[Entry] = []
    size = _ENVELOPE_BYTES
    for entry in entries:
        length = len(entry.text) + 1
        if current and (len(current) >= batch_size or size + length > limit):
            batches.append(current)
            current, size = [], _ENVELOPE_BYTES
        current.append(entry)
        size += length
    if current:
        batches.append(current)
    return batches
