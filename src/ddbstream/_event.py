"""The envelopes that deliver stream records: Lambda, Kinesis, EventBridge Pipes, GetRecords."""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from typing import Any, Generic

from ._errors import DecodeError, PathItem
from ._image import _MISSING
from ._records import Envelope, StreamRecord, T
from ._shapes import lambda_record_from_get_records

__all__ = ["StreamEvent"]

_new_object = object.__new__
_dict_get: Any = dict.get


def _parse_window_time(value: Any) -> _dt.datetime:
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = _dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


class StreamEvent(Generic[T]):
    """A batch of stream records as one Lambda invocation receives it.

    Use the constructor for the envelope you have: :meth:`from_lambda`, :meth:`from_kinesis`,
    :meth:`from_pipes`, :meth:`from_get_records`, or :meth:`parse` to detect it. The caller's
    event is never mutated, and nothing is decoded until a record's image is read.

    Example:
        >>> from ddbstream import StreamEvent
        >>> from ddbstream.testing import insert, lambda_event, remove
        >>> event = StreamEvent.from_lambda(lambda_event(insert({"pk": "a"}), remove({"pk": "b"})))
        >>> [(r.event_name.value, r.keys["pk"]) for r in event]
        [('INSERT', 'a'), ('REMOVE', 'b')]
    """

    __slots__ = ("_envelope", "_items", "_model", "_raw", "_records")

    def __init__(
        self,
        raw: Any,
        items: Sequence[Any],
        *,
        envelope: Envelope,
        model: type[Any] | None = None,
    ) -> None:
        self._raw = raw
        self._items = items
        self._envelope: Envelope = envelope
        self._model = model
        self._records: tuple[StreamRecord[T], ...] | None = None

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def from_lambda(
        cls, event: Mapping[str, Any], *, model: type[Any] | None = None
    ) -> StreamEvent[Any]:
        """A Lambda DynamoDB stream event: ``{"Records": [...]}`` (plus tumbling-window fields)."""
        records = event.get("Records") if isinstance(event, Mapping) else None
        if not isinstance(records, list):
            raise DecodeError("a Lambda DynamoDB stream event must have a 'Records' array")
        return cls(event, records, envelope="lambda", model=model)

    @classmethod
    def from_pipes(
        cls, records: Sequence[Mapping[str, Any]], *, model: type[Any] | None = None
    ) -> StreamEvent[Any]:
        """An EventBridge Pipes batch: a bare JSON array of DynamoDB stream records."""
        if not isinstance(records, list):
            raise DecodeError("an EventBridge Pipes event must be a JSON array of records")
        return cls(records, records, envelope="pipes", model=model)

    @classmethod
    def from_kinesis(
        cls, event: Mapping[str, Any], *, model: type[Any] | None = None
    ) -> StreamEvent[Any]:
        """A Kinesis Data Streams for DynamoDB event; each ``kinesis.data`` is a change record."""
        records = event.get("Records") if isinstance(event, Mapping) else None
        if not isinstance(records, list):
            raise DecodeError("a Lambda Kinesis event must have a 'Records' array")
        return cls(event, records, envelope="kinesis", model=model)

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
        records = response.get("Records") if isinstance(response, Mapping) else None
        if not isinstance(records, list):
            raise DecodeError("a GetRecords response must have a 'Records' array")
        converted = [lambda_record_from_get_records(r, stream_arn, region=region) for r in records]
        return cls({"Records": converted}, converted, envelope="lambda", model=model)

    @classmethod
    def parse(cls, event: Any, *, model: type[Any] | None = None) -> StreamEvent[Any]:
        """Detect the envelope (Lambda stream, Kinesis or Pipes) and parse the event."""
        if isinstance(event, list):
            return cls.from_pipes(event, model=model)
        if isinstance(event, Mapping):
            records = event.get("Records")
            first = records[0] if isinstance(records, list) and records else None
            if isinstance(first, Mapping) and (
                first.get("eventSource") == "aws:kinesis" or "kinesis" in first
            ):
                return cls.from_kinesis(event, model=model)
            return cls.from_lambda(event, model=model)
        raise DecodeError(
            f"not a DynamoDB stream, Kinesis or Pipes event: got {type(event).__name__}"
        )

    # -- records ----------------------------------------------------------------------------

    def _build(self, index: int, item: Any) -> StreamRecord[T]:
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

    @property
    def records(self) -> tuple[StreamRecord[T], ...]:
        """The records, in delivery order."""
        if self._records is None:
            if self._envelope == "kinesis":
                self._records = tuple(self._build(i, item) for i, item in enumerate(self._items))
            else:
                self._records = self._build_plain()
        return self._records

    def _build_plain(self) -> tuple[StreamRecord[T], ...]:
        """:meth:`_build` for Lambda and Pipes records, fast for the usual well-formed dicts.

        The checks ``StreamRecord.__init__`` makes on each record (an object with a
        ``dynamodb`` object whose ``SequenceNumber`` is a string of ASCII digits) run once for
        the whole batch; each record then costs an object and a few slot stores. Anything else
        takes :meth:`_build` record by record, which raises the error naming the record.
        """
        items = self._items
        try:
            # dict.get (the method of dict itself) raises TypeError for anything but a dict,
            # so records and their "dynamodb" must be dicts; "".join wants strings.
            seqs = list(
                map(_dict_get, map(_dict_get, items, repeat("dynamodb")), repeat("SequenceNumber"))
            )
            digits = "".join(seqs)
        except TypeError:
            digits = None
        if (
            digits is None
            or not digits.isascii()
            or digits.encode().translate(None, b"0123456789")
            or not all(seqs)
        ):
            return tuple(self._build(index, item) for index, item in enumerate(items))
        envelope = self._envelope
        model = self._model
        new = _new_object
        cls: Any = StreamRecord
        out: list[StreamRecord[T]] = []
        append = out.append
        if model is None:
            for item in items:
                record: StreamRecord[T] = new(cls)
                record._record = item
                record._envelope = envelope
                record._model = None
                record._keys = None
                record._new_image = _MISSING
                record._old_image = _MISSING
                append(record)
        else:
            for item in items:
                record = new(cls)
                record._record = item
                record._envelope = envelope
                record._model = model
                record._keys = None
                record._new_image = _MISSING
                record._old_image = _MISSING
                record._new = _MISSING
                record._old = _MISSING
                append(record)
        return tuple(out)

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

    def _field(self, name: str) -> Any:
        return self._raw.get(name) if isinstance(self._raw, Mapping) else None

    @property
    def is_tumbling_window(self) -> bool:
        """True when the invocation belongs to a tumbling window (``window`` is present)."""
        return isinstance(self._field("window"), Mapping)

    @property
    def window(self) -> tuple[_dt.datetime, _dt.datetime] | None:
        """``(start, end)`` of the tumbling window, as aware UTC datetimes."""
        window = self._field("window")
        if not isinstance(window, Mapping):
            return None
        try:
            return _parse_window_time(window["start"]), _parse_window_time(window["end"])
        except (KeyError, ValueError) as exc:
            raise DecodeError(
                f"bad tumbling window {dict(window)!r}: {exc}", path=("window",)
            ) from None

    @property
    def state(self) -> dict[str, Any] | None:
        """The window state returned by the previous invocation (``{}`` on the first)."""
        if not self.is_tumbling_window:
            return None
        state = self._field("state")
        return dict(state) if isinstance(state, Mapping) else {}

    @property
    def shard_id(self) -> str | None:
        """``shardId`` of a tumbling-window invocation."""
        value = self._field("shardId")
        return value if isinstance(value, str) else None

    @property
    def is_final_invoke_for_window(self) -> bool:
        """``isFinalInvokeForWindow``: the window closed; flush its state now."""
        return self._field("isFinalInvokeForWindow") is True

    @property
    def is_window_terminated_early(self) -> bool:
        """``isWindowTerminatedEarly``: the state hit Lambda's 1 MB limit."""
        return self._field("isWindowTerminatedEarly") is True
