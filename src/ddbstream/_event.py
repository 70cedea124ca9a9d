"""The envelopes that deliver stream records: Lambda, Kinesis, EventBridge Pipes, GetRecords.

An event is parsed once: :attr:`StreamEvent.records` (every record, or the first error) or
:meth:`StreamEvent.entries` (every record, or what failed to parse in its place, for a batch
engine that reports failures record by record), and :attr:`StreamEvent.tumbling_window`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Generic, overload

from typing_extensions import TypeVar

from ._errors import DecodeError, PathItem
from ._records import StreamRecord, T
from ._shapes import lambda_record_from_get_records
from ._types import Envelope
from ._window import Window

__all__ = ["StreamEvent", "UnparsedRecord"]

M = TypeVar("M")

_dict_get: Any = dict.get


@dataclass(frozen=True, slots=True)
class UnparsedRecord:
    """A record of a batch that does not parse, but can still be named in a partial batch
    response: it fails on its own instead of failing the whole batch.

    Attributes:
        index: its position in the batch.
        item_identifier: what a partial batch response reports for it.
        raw: the envelope's record, as delivered.
        error: why it does not parse.
    """

    index: int
    item_identifier: str
    raw: Any = field(repr=False)
    error: DecodeError


def _raw_identifier(envelope: Envelope, item: object) -> str | None:
    """The item identifier of a raw record that may not parse, or None if it has none."""
    if not isinstance(item, Mapping):
        return None
    if envelope == "pipes":
        value = item.get("eventID")
        return value if isinstance(value, str) and value else None
    inner = item.get("kinesis" if envelope == "kinesis" else "dynamodb")
    key = "sequenceNumber" if envelope == "kinesis" else "SequenceNumber"
    value = inner.get(key) if isinstance(inner, Mapping) else None
    return value if isinstance(value, str) and value.isdigit() and value.isascii() else None


def _records_array(event: object, what: str) -> list[Any]:
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        raise DecodeError(f"{what} must have a 'Records' array")
    return records


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"StreamEvent.{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)


class StreamEvent(Generic[T]):
    """A batch of stream records as one Lambda invocation receives it.

    Use the constructor for the envelope you have: :meth:`from_lambda`, :meth:`from_kinesis`,
    :meth:`from_pipes`, :meth:`from_get_records`, or :meth:`parse` to detect it. With
    ``model=Invoice`` the event is a ``StreamEvent[Invoice]`` and its records
    ``StreamRecord[Invoice]``. The caller's event is never mutated, and nothing is decoded until
    a record's image is read.

    Example:
        >>> from ddbstream import StreamEvent
        >>> from ddbstream.testing import insert, lambda_event, remove
        >>> event = StreamEvent.from_lambda(lambda_event(insert({"pk": "a"}), remove({"pk": "b"})))
        >>> [(r.event_name.value, r.keys["pk"]) for r in event]
        [('INSERT', 'a'), ('REMOVE', 'b')]
    """

    __slots__ = ("_entries", "_envelope", "_items", "_model", "_raw", "_records")

    def __init__(
        self,
        raw: Any,
        items: Sequence[Any],
        *,
        envelope: Envelope,
        model: type[T] | None = None,
    ) -> None:
        self._raw = raw
        self._items = items
        self._envelope: Envelope = envelope
        self._model = model
        self._records: tuple[StreamRecord[T], ...] | None = None
        self._entries: tuple[StreamRecord[T] | UnparsedRecord, ...] | None = None

    # -- constructors -----------------------------------------------------------------------

    @overload
    @classmethod
    def from_lambda(cls, event: Mapping[str, Any], *, model: type[M]) -> StreamEvent[M]: ...
    @overload
    @classmethod
    def from_lambda(cls, event: Mapping[str, Any], *, model: None = None) -> StreamEvent: ...
    @classmethod
    def from_lambda(
        cls, event: Mapping[str, Any], *, model: type[Any] | None = None
    ) -> StreamEvent[Any]:
        """A Lambda DynamoDB stream event: ``{"Records": [...]}`` (plus tumbling-window fields)."""
        records = _records_array(event, "a Lambda DynamoDB stream event")
        return StreamEvent(event, records, envelope="lambda", model=model)

    @overload
    @classmethod
    def from_pipes(
        cls, records: Sequence[Mapping[str, Any]], *, model: type[M]
    ) -> StreamEvent[M]: ...
    @overload
    @classmethod
    def from_pipes(
        cls, records: Sequence[Mapping[str, Any]], *, model: None = None
    ) -> StreamEvent: ...
    @classmethod
    def from_pipes(
        cls, records: Sequence[Mapping[str, Any]], *, model: type[Any] | None = None
    ) -> StreamEvent[Any]:
        """An EventBridge Pipes batch: a bare JSON array of DynamoDB stream records."""
        if not isinstance(records, list):
            raise DecodeError("an EventBridge Pipes event must be a JSON array of records")
        return StreamEvent(records, records, envelope="pipes", model=model)

    @overload
    @classmethod
    def from_kinesis(cls, event: Mapping[str, Any], *, model: type[M]) -> StreamEvent[M]: ...
    @overload
    @classmethod
    def from_kinesis(cls, event: Mapping[str, Any], *, model: None = None) -> StreamEvent: ...
    @classmethod
    def from_kinesis(
        cls, event: Mapping[str, Any], *, model: type[Any] | None = None
    ) -> StreamEvent[Any]:
        """A Kinesis Data Streams for DynamoDB event; each ``kinesis.data`` is a change record."""
        records = _records_array(event, "a Lambda Kinesis event")
        return StreamEvent(event, records, envelope="kinesis", model=model)

    @overload
    @classmethod
    def from_get_records(
        cls,
        response: Mapping[str, Any],
        stream_arn: str,
        *,
        model: type[M],
        region: str | None = None,
    ) -> StreamEvent[M]: ...
    @overload
    @classmethod
    def from_get_records(
        cls,
        response: Mapping[str, Any],
        stream_arn: str,
        *,
        model: None = None,
        region: str | None = None,
    ) -> StreamEvent: ...
    @classmethod
    def from_get_records(
        cls,
        response: Mapping[str, Any],
        stream_arn: str,
        *,
        model: type[Any] | None = None,
        region: str | None = None,
    ) -> StreamEvent[Any]:
        """The output of boto3's ``dynamodbstreams.get_records`` (datetimes, bytes, no ARN),
        converted to exactly what Lambda would deliver."""
        records = _records_array(response, "a GetRecords response")
        converted = [lambda_record_from_get_records(r, stream_arn, region=region) for r in records]
        return StreamEvent({"Records": converted}, converted, envelope="lambda", model=model)

    @overload
    @classmethod
    def parse(cls, event: Any, *, model: type[M]) -> StreamEvent[M]: ...
    @overload
    @classmethod
    def parse(cls, event: Any, *, model: None = None) -> StreamEvent: ...
    @classmethod
    def parse(cls, event: Any, *, model: type[Any] | None = None) -> StreamEvent[Any]:
        """Detect the envelope (Lambda stream, Kinesis or Pipes) and parse the event."""
        if isinstance(event, list):
            return StreamEvent.from_pipes(event, model=model)
        if isinstance(event, Mapping):
            records = event.get("Records")
            first = records[0] if isinstance(records, list) and records else None
            if isinstance(first, Mapping) and (
                first.get("eventSource") == "aws:kinesis" or "kinesis" in first
            ):
                return StreamEvent.from_kinesis(event, model=model)
            return StreamEvent.from_lambda(event, model=model)
        raise DecodeError(
            f"not a DynamoDB stream, Kinesis or Pipes event: got {type(event).__name__}"
        )

    # -- records ----------------------------------------------------------------------------

    @property
    def records(self) -> tuple[StreamRecord[T], ...]:
        """The records, in delivery order.

        Raises:
            DecodeError: the first record that does not parse.
        """
        if self._records is None:
            checked = self._checked()
            if checked is None:
                checked = tuple(self._parse(i, item) for i, item in enumerate(self._items))
            self._records = checked
        return self._records

    def entries(self) -> tuple[StreamRecord[T] | UnparsedRecord, ...]:
        """Every record in delivery order, with an :class:`UnparsedRecord` in place of each one
        that does not parse but has an item identifier (so it can fail alone in a partial batch
        response).

        Raises:
            DecodeError: a record that does not parse has no item identifier either: no
                partial batch response can name it, so the whole batch must be retried.

        Example:
            >>> from ddbstream import StreamEvent
            >>> from ddbstream.testing import insert, pipes_event
            >>> event = pipes_event(insert({"pk": "a"}), insert({"pk": "b"}))
            >>> del event[1]["dynamodb"]  # a Pipes record is named by its eventID
            >>> first, second = StreamEvent.from_pipes(event).entries()
            >>> first.keys["pk"], second.item_identifier == event[1]["eventID"]
            ('a', True)
            >>> second.error.reason
            "the record has no 'dynamodb' object"
        """
        if self._entries is None:
            checked = self._checked()
            if checked is not None and (
                self._envelope != "pipes" or all(_raw_identifier("pipes", i) for i in self._items)
            ):
                self._entries = checked
            else:
                self._entries = tuple(self._entry(i, item) for i, item in enumerate(self._items))
        return self._entries

    def _checked(self) -> tuple[StreamRecord[T], ...] | None:
        """The records of a Lambda or Pipes batch of the usual well-formed dicts, checked in one
        pass; None when the batch needs the record-by-record path (which names the error).

        The check ``StreamRecord`` makes on one record (a ``dynamodb`` object whose
        ``SequenceNumber`` is a string of ASCII digits) runs once for the whole batch, so each
        record then costs only the object and its slots.
        """
        if self._envelope == "kinesis":
            return None
        items = self._items
        try:
            # dict.get (the method of dict itself) raises TypeError for anything but a dict,
            # so records and their "dynamodb" must be dicts; "".join wants strings.
            seqs = list(
                map(_dict_get, map(_dict_get, items, repeat("dynamodb")), repeat("SequenceNumber"))
            )
            digits = "".join(seqs)
        except TypeError:
            return None
        if (
            not digits.isascii()
            or digits.encode().translate(None, b"0123456789")  # faster than str.isdigit()
            or not all(seqs)
        ):
            return None
        pairs = zip(items, seqs, strict=True)
        return StreamRecord._trusted(pairs, envelope=self._envelope, model=self._model)

    def _parse(self, index: int, item: Any) -> StreamRecord[T]:
        if not isinstance(item, Mapping):
            raise DecodeError(
                f"record must be an object, got {type(item).__name__}", path=("Records", index)
            )
        if self._envelope != "kinesis":
            return StreamRecord(item, envelope=self._envelope, model=self._model)
        kinesis = item.get("kinesis")
        data = kinesis.get("data") if isinstance(kinesis, Mapping) else None
        seq = kinesis.get("sequenceNumber") if isinstance(kinesis, Mapping) else None
        path: tuple[PathItem, ...] = ("Records", index, "kinesis", "data")
        seq = seq if isinstance(seq, str) else None
        if not isinstance(data, str):
            raise DecodeError(
                "a Kinesis record must have base64 'kinesis.data'", path=path, sequence_number=seq
            )
        try:
            change = json.loads(base64.b64decode(data, validate=True))
        except RecursionError:
            raise DecodeError(
                "kinesis.data nests too deeply to be a change record",
                path=path,
                sequence_number=seq,
            ) from None
        except (binascii.Error, ValueError) as exc:
            raise DecodeError(
                f"kinesis.data is not base64 JSON: {exc}", path=path, sequence_number=seq
            ) from None
        if not isinstance(change, dict):
            raise DecodeError(
                "kinesis.data must hold a JSON object", path=path, sequence_number=seq
            )
        return StreamRecord(
            change, envelope="kinesis", raw=item, model=self._model, sequence_number=seq
        )

    def _entry(self, index: int, item: Any) -> StreamRecord[T] | UnparsedRecord:
        try:
            record = self._parse(index, item)
            if self._envelope == "pipes" and not record.event_id:
                raise DecodeError("eventID is empty", path=("eventID",))
        except DecodeError as exc:
            identifier = _raw_identifier(self._envelope, item)
            if identifier is None:
                inner = exc.path[2:] if exc.path[:1] == ("Records",) else exc.path
                raise DecodeError(
                    f"record {index} has no item identifier, so no partial batch response can "
                    f"name it; the whole batch must be retried: {exc.reason}",
                    path=("Records", index, *inner),
                    event_id=exc.event_id,
                    sequence_number=exc.sequence_number,
                ) from exc
            return UnparsedRecord(index, identifier, item, exc)
        return record

    def __iter__(self) -> Iterator[StreamRecord[T]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<StreamEvent {self._envelope} records={len(self._items)}>"

    @property
    def envelope(self) -> Envelope:
        """``"lambda"``, ``"kinesis"`` or ``"pipes"``."""
        return self._envelope

    @property
    def raw(self) -> Any:
        """The caller's event object (never mutated)."""
        return self._raw

    # -- tumbling windows -------------------------------------------------------------------

    @property
    def tumbling_window(self) -> Window | None:
        """The tumbling window of this invocation (``window``, ``state``, ``shardId``,
        ``isFinalInvokeForWindow``, ``isWindowTerminatedEarly``); None outside tumbling windows.

        Raises:
            DecodeError: the event's ``window`` has no valid ``start`` or ``end``.
        """
        raw = self._raw
        return Window.from_lambda_event(raw) if isinstance(raw, Mapping) else None

    @property
    def is_tumbling_window(self) -> bool:
        """Deprecated: use ``tumbling_window is not None``."""
        _deprecated("is_tumbling_window", "StreamEvent.tumbling_window is not None")
        return self.tumbling_window is not None

    @property
    def window(self) -> tuple[_dt.datetime, _dt.datetime] | None:
        """Deprecated: use ``tumbling_window.start`` and ``tumbling_window.end``."""
        _deprecated("window", "StreamEvent.tumbling_window (.start and .end)")
        window = self.tumbling_window
        return None if window is None else (window.start, window.end)

    @property
    def state(self) -> dict[str, Any] | None:
        """Deprecated: use ``tumbling_window.state``."""
        _deprecated("state", "StreamEvent.tumbling_window.state")
        window = self.tumbling_window
        return None if window is None else dict(window.state)

    @property
    def shard_id(self) -> str | None:
        """Deprecated: use ``tumbling_window.shard_id``."""
        _deprecated("shard_id", "StreamEvent.tumbling_window.shard_id")
        window = self.tumbling_window
        return None if window is None else window.shard_id

    @property
    def is_final_invoke_for_window(self) -> bool:
        """Deprecated: use ``tumbling_window.is_final_invoke``."""
        _deprecated("is_final_invoke_for_window", "StreamEvent.tumbling_window.is_final_invoke")
        window = self.tumbling_window
        return window is not None and window.is_final_invoke

    @property
    def is_window_terminated_early(self) -> bool:
        """Deprecated: use ``tumbling_window.is_terminated_early``."""
        _deprecated("is_window_terminated_early", "StreamEvent.tumbling_window.is_terminated_early")
        window = self.tumbling_window
        return window is not None and window.is_terminated_early
