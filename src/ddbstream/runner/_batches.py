"""Records as the runner keeps them, and batches cut at BatchSize and Lambda's 6 MB.

Lambda serialises the event it sends, so nothing a handler does to its event reaches the event
source mapping. The runner keeps each record as an :class:`Entry`: its JSON text (what every
invocation, retry and on-failure payload is built from) and the identity it needs itself
(SequenceNumber, eventID, creation time), read once before any handler runs. A handler that
pops ``dynamodb`` or rewrites ``SequenceNumber`` therefore changes nothing the runner reads,
retries or checkpoints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from .._errors import DecodeError
from ._config import MAX_PAYLOAD_BYTES

__all__ = ["Entry", "cut_batches", "event_text", "handed_event", "to_entries"]

_ENVELOPE_BYTES = len('{"Records":[]}')
#: One encoder for every record: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


class Entry(NamedTuple):
    """One stream record: its identity and its exact JSON text.

    A named tuple rather than a frozen dataclass: one is built per record read, and a frozen
    dataclass costs 1.8 us to build against 0.5 us (``bench/runner.py`` measures this loop).

    Attributes:
        sequence_number: ``dynamodb.SequenceNumber`` (digits).
        event_id: ``eventID``, when the record has one.
        created: ``dynamodb.ApproximateCreationDateTime`` in epoch seconds, when numeric.
        text: the record as compact JSON.
        original: the record itself, when the caller gave it away (``to_entries(keep=True)``):
            the first invocation may hand it to the handler instead of parsing ``text``.
    """

    sequence_number: str
    event_id: str | None
    created: float | None
    text: str
    original: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        """A fresh copy of the record (what a handler may change at will)."""
        value: dict[str, Any] = json.loads(self.text)
        return value


def _as_mapping(value: object) -> Mapping[str, Any] | None:
    if type(value) is dict:  # the slow ABC check only for what is not a plain dict
        return value
    return value if isinstance(value, Mapping) else None


def _entry(index: int, value: object, keep: bool) -> Entry:
    record = value if type(value) is dict else _as_mapping(value)
    if record is None:
        raise DecodeError(f"a record must be an object, not {type(value).__name__}", path=(index,))
    event_id = record.get("eventID")
    event_id = event_id if isinstance(event_id, str) else None
    dynamodb = record.get("dynamodb")
    if type(dynamodb) is not dict:
        dynamodb = _as_mapping(dynamodb) or {}
    sequence = dynamodb.get("SequenceNumber")
    if not isinstance(sequence, str) or not sequence.isdigit() or not sequence.isascii():
        raise DecodeError(
            f"SequenceNumber {sequence!r:.60} is not a string of digits",
            path=(index, "dynamodb", "SequenceNumber"),
            event_id=event_id,
        )
    when = dynamodb.get("ApproximateCreationDateTime")
    created = None
    if isinstance(when, (int, float)) and not isinstance(when, bool) and math.isfinite(when):
        created = float(when)
    try:
        text = _ENCODER.encode(record)
    except (TypeError, ValueError, RecursionError) as exc:
        raise DecodeError(
            f"the record is not JSON: {exc}"[:200],
            path=(index,),
            event_id=event_id,
            sequence_number=sequence,
        ) from None
    original = value if keep and type(value) is dict else None
    return Entry(sequence, event_id, created, text, original)


def to_entries(records: Sequence[object], *, keep: bool = False) -> list[Entry]:
    """Read each Lambda-shaped record's identity and JSON text, before any handler runs.

    ``keep``: the records were built for this delivery and nothing else reads them, so they
    may be handed to a handler once (see :attr:`Entry.original`); this saves a JSON parse per
    record, which the runner's read loop measurably needs (``bench/runner.py``).

    Raises:
        DecodeError: a record is not an object, lacks a digit SequenceNumber or is not JSON
            (the error names its index and, when known, its eventID).

    Example:
        >>> record = {"eventID": "1", "dynamodb": {"SequenceNumber": "100"}}
        >>> [(e.sequence_number, e.event_id) for e in to_entries([record])]
        [('100', '1')]
    """
    return [_entry(index, record, keep) for index, record in enumerate(records)]


def handed_event(
    entries: Sequence[Entry], extra: Mapping[str, Any] | None = None, *, first: bool = False
) -> dict[str, Any] | str:
    """What a handler gets: on the ``first`` invocation of entries that have their originals,
    the event built from them; otherwise the event's JSON text (parsed by the handler's thread,
    so each invocation gets a fresh copy)."""
    if first and entries and all(e.original is not None for e in entries):
        event: dict[str, Any] = {"Records": [e.original for e in entries]}
        if extra:
            event.update(json.loads(json.dumps(dict(extra))))
        return event
    return event_text(entries, extra)


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
