"""Typed, lazily decoded DynamoDB stream records and the envelopes that carry them.

A Lambda DynamoDB stream record looks like this; ddbstream's names are the snake_case of AWS's::

    {"eventID": ..., "eventName": "MODIFY", "eventVersion": "1.1",
     "eventSource": "aws:dynamodb", "awsRegion": ...,
     "userIdentity": {...}?,                                       <- TTL deletes only
     "dynamodb": {"ApproximateCreationDateTime": 1718000000.0,
                  "Keys":     {"pk": {"S": "a"}},                   -> record.keys (Image)
                  "NewImage": {"pk": {"S": "a"}, "n": {"N": "2"}},  -> record.new_image
                  "OldImage": {"pk": {"S": "a"}, "n": {"N": "1"}},  -> record.old_image
                  "SequenceNumber": "...", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"},
     "eventSourceARN": "arn:aws:dynamodb:...:table/T/stream/..."}

Building records decodes nothing: an :class:`Image` decodes one attribute when it is read and
caches it, so a 10,000-record event costs only what the handler touches.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import enum
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from types import MappingProxyType
from typing import Any, Generic, Literal, cast

from typing_extensions import TypeVar

from ._codec import _Bad, _decode, _fill
from ._errors import DecodeError, PathItem, UsageError
from ._shapes import lambda_record_from_get_records, table_name_from_arn

__all__ = [
    "EventName",
    "Image",
    "StreamEvent",
    "StreamRecord",
    "StreamViewType",
]

T = TypeVar("T", default=Mapping[str, Any])
M = TypeVar("M")
Envelope = Literal["lambda", "kinesis", "pipes"]

_MISSING: Any = object()
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class EventName(str, enum.Enum):
    """The kind of change a stream record describes."""

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"

    def __str__(self) -> str:
        return self.value


class StreamViewType(str, enum.Enum):
    """What a stream writes for each change (the table's ``StreamSpecification``)."""

    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"

    def __str__(self) -> str:
        return self.value


_EVENT_NAMES = {e.value: e for e in EventName}
_VIEW_TYPES = {v.value: v for v in StreamViewType}


class Image(Mapping[str, Any]):
    """An item image (``Keys``, ``NewImage`` or ``OldImage``): an immutable mapping of values.

    Each attribute is decoded on first access and cached; ``raw`` keeps the descriptors. Errors
    name the image, the attribute path, and the record's event id and sequence number.

    Example:
        >>> from ddbstream import Image
        >>> image = Image({"InvoiceNumber": {"S": "ABC"}, "Amount": {"N": "12.5"}})
        >>> image["Amount"], image.descriptor("Amount")
        (Decimal('12.5'), {'N': '12.5'})
    """

    # ``_where`` locates errors: an ``(event_id, sequence_number)`` pair, or the StreamRecord
    # the image belongs to (read only when an error is raised, so building an image is cheap).
    __slots__ = ("_cache", "_name", "_raw", "_where")

    def __init__(
        self,
        raw: Mapping[str, Any],
        *,
        name: str = "Image",
        event_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise DecodeError(
                f"{name} must be an object, got {type(raw).__name__}",
                path=(name,),
                event_id=event_id,
                sequence_number=sequence_number,
            )
        self._raw = raw
        self._name = name
        self._where: Any = (event_id, sequence_number)
        self._cache: dict[str, Any] = {}

    @property
    def _event_id(self) -> str | None:
        where = self._where
        return where[0] if type(where) is tuple else where._record.get("eventID")  # type: ignore[no-any-return]

    @property
    def _sequence_number(self) -> str | None:
        where = self._where
        return where[1] if type(where) is tuple else where.sequence_number  # type: ignore[no-any-return]

    def __getitem__(self, name: str) -> Any:
        value = self._cache.get(name, _MISSING)
        if value is not _MISSING:
            return value
        av = self._raw[name]
        if type(av) is dict and len(av) == 1:
            value = av.get("S")
            if type(value) is str:
                return value  # an S value decodes to itself: nothing to cache
        try:
            value = _decode(av, 0)
        except _Bad as bad:
            raise self._error(bad.reason, (name, *reversed(bad.path))) from None
        self._cache[name] = value
        return value

    def _error(self, reason: str, path: tuple[PathItem, ...]) -> DecodeError:
        return DecodeError(
            reason,
            path=(self._name, *path),
            event_id=self._event_id,
            sequence_number=self._sequence_number,
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Image):
            mine, theirs = self._raw, other._raw
            if mine == theirs:
                return True
            return mine.keys() == theirs.keys() and all(
                mine[name] == theirs[name]
                or _same_value(mine[name], theirs[name], self[name], other[name])
                for name in mine
            )
        return Mapping.__eq__(self, other)

    def __hash__(self) -> int:
        # Equal images have the same attribute names; values may differ in spelling ("1.0"/"1").
        return hash(frozenset(self._raw))

    def __repr__(self) -> str:
        return f"Image({dict(self._raw)!r})"

    @property
    def raw(self) -> Mapping[str, Any]:
        """The attribute descriptors as Lambda sent them (read-only)."""
        return (
            MappingProxyType(dict(self._raw))
            if not isinstance(self._raw, dict)
            else (MappingProxyType(self._raw))
        )

    def descriptor(self, name: str) -> Mapping[str, Any]:
        """The raw descriptor of one attribute, e.g. ``{"N": "12.5"}``."""
        return cast(Mapping[str, Any], self._raw[name])

    def to_dict(self) -> dict[str, Any]:
        """Decode every attribute into a new plain ``dict``."""
        raw = self._raw
        cache = self._cache
        if not cache and type(raw) is dict:
            # Nothing read yet: decode the whole image in one loop, straight into the cache
            # (in raw order; on failure the cache keeps the attributes decoded before).
            try:
                _fill(raw, 0, cache, None)
            except _Bad as bad:
                raise self._error(bad.reason, tuple(reversed(bad.path))) from None
            return cache.copy()
        return {name: self[name] for name in raw}


def _fail(reason: str, raw: Mapping[str, Any], *, path: tuple[PathItem, ...] = ()) -> DecodeError:
    ddb = raw.get("dynamodb")
    seq = ddb.get("SequenceNumber") if isinstance(ddb, Mapping) else None
    event_id = raw.get("eventID")
    return DecodeError(
        reason,
        path=path,
        event_id=event_id if isinstance(event_id, str) else None,
        sequence_number=seq if isinstance(seq, str) else None,
    )


_new_object = object.__new__
_dict_get: Any = dict.get


@functools.cache
def _bind_image() -> Any:
    """``_binding.bind_image``, imported once on first use (it imports pydantic lazily)."""
    from ._binding import bind_image

    return bind_image


def _type_shape(av: Any) -> Any:
    """The descriptor with every scalar replaced by its tag: equal shapes have equal types."""
    if not isinstance(av, Mapping) or len(av) != 1:
        return None
    ((tag, value),) = av.items()
    if tag == "M" and isinstance(value, Mapping):
        return ("M", {k: _type_shape(v) for k, v in value.items()})
    if tag == "L" and isinstance(value, list):
        return ("L", [_type_shape(v) for v in value])
    return tag


def _same_value(a: Mapping[str, Any], b: Mapping[str, Any], x: Any, y: Any) -> bool:
    """Two descriptors hold the same value: same types everywhere and equal decoded values
    (so ``{"N": "1.0"}`` equals ``{"N": "1"}`` but not ``{"BOOL": true}``)."""
    return _type_shape(a) == _type_shape(b) and bool(x == y)


def _epoch_to_datetime(value: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(value, tz=_dt.timezone.utc)


class StreamRecord(Generic[T]):
    """One change of one item, as delivered by a DynamoDB stream.

    ``StreamRecord[Invoice]`` binds the images to a user model (pydantic model, dataclass or
    TypedDict): ``record.new`` and ``record.old`` are then validated ``Invoice`` values.
    Without a model they are the :class:`Image` mappings themselves.

    Example:
        >>> from ddbstream import StreamEvent
        >>> from ddbstream.testing import insert, lambda_event
        >>> record = StreamEvent.from_lambda(lambda_event(insert({"pk": "a", "n": 1}))).records[0]
        >>> record.event_name, record.keys["pk"], record.new_image["n"]
        (<EventName.INSERT: 'INSERT'>, 'a', Decimal('1'))
    """

    # StreamEvent builds records without __init__ and sets only _record, _envelope, _model and
    # the image caches (_keys, _new_image, _old_image; _new and _old with a model): _seq is read
    # from the record on first use (StreamEvent checked every SequenceNumber in bulk) and _raw
    # left unset means the record itself. See StreamEvent._build_plain.
    __slots__ = (
        "_envelope",
        "_keys",
        "_model",
        "_new",
        "_new_image",
        "_old",
        "_old_image",
        "_raw",
        "_record",
        "_seq",
    )

    def __init__(
        self,
        record: Mapping[str, Any],
        *,
        envelope: Envelope = "lambda",
        raw: Mapping[str, Any] | None = None,
        model: type[Any] | None = None,
        sequence_number: str | None = None,
    ) -> None:
        if not isinstance(record, Mapping):
            raise DecodeError(f"a stream record must be an object, got {type(record).__name__}")
        ddb = record.get("dynamodb")
        if not isinstance(ddb, Mapping):
            raise _fail("the record has no 'dynamodb' object", record, path=("dynamodb",))
        seq = sequence_number if sequence_number is not None else ddb.get("SequenceNumber")
        if not isinstance(seq, str) or not seq.isdigit() or not seq.isascii():
            raise _fail(
                f"SequenceNumber must be a string of digits, got {seq!r}",
                record,
                path=("dynamodb", "SequenceNumber"),
            )
        self._record = record
        self._seq: str = seq
        self._envelope: Envelope = envelope
        self._raw = raw if raw is not None else record
        self._model = model
        self._keys: Image | None = None
        self._new_image: Any = _MISSING
        self._old_image: Any = _MISSING
        self._new: Any = _MISSING
        self._old: Any = _MISSING

    # -- identity ---------------------------------------------------------------------------

    @property
    def event_id(self) -> str:
        """``eventID``: globally unique id of the record."""
        value = self._record.get("eventID")
        if not isinstance(value, str):
            raise _fail(f"eventID must be a string, got {value!r}", self._record, path=("eventID",))
        return value

    @property
    def event_name(self) -> EventName:
        """``eventName``: INSERT, MODIFY or REMOVE."""
        value = self._record.get("eventName")
        name = _EVENT_NAMES.get(value) if isinstance(value, str) else None
        if name is None:
            raise _fail(
                f"eventName must be INSERT, MODIFY or REMOVE, got {value!r}",
                self._record,
                path=("eventName",),
            )
        return name

    @property
    def sequence_number(self) -> str:
        """``dynamodb.SequenceNumber`` (digits, up to 40; compare with ``int()``). For Kinesis
        envelopes, which carry none, the Kinesis record's ``sequenceNumber``."""
        try:
            return self._seq
        except AttributeError:  # built by StreamEvent, which checked it in bulk: read it now
            pass
        record = self._record
        ddb = record.get("dynamodb")
        seq = ddb.get("SequenceNumber") if isinstance(ddb, Mapping) else None
        if not isinstance(seq, str) or not seq.isdigit() or not seq.isascii():
            # Only if the caller changed the record after building the event.
            raise _fail(
                f"SequenceNumber must be a string of digits, got {seq!r}",
                record,
                path=("dynamodb", "SequenceNumber"),
            )
        self._seq = seq
        return seq

    @property
    def item_identifier(self) -> str:
        """What a partial batch response reports for this record: the SequenceNumber for
        Lambda streams, the eventID for EventBridge Pipes, the Kinesis sequence number for
        Kinesis."""
        return self.event_id if self._envelope == "pipes" else self.sequence_number

    @property
    def envelope(self) -> Envelope:
        """Which envelope delivered the record."""
        return self._envelope

    @property
    def event_version(self) -> str | None:
        """``eventVersion`` (``"1.1"`` on AWS); None for Kinesis change records."""
        value = self._record.get("eventVersion")
        return value if isinstance(value, str) else None

    @property
    def event_source(self) -> str:
        """``eventSource``: ``"aws:dynamodb"``."""
        value = self._record.get("eventSource")
        return value if isinstance(value, str) else "aws:dynamodb"

    @property
    def aws_region(self) -> str | None:
        """``awsRegion``."""
        value = self._record.get("awsRegion")
        return value if isinstance(value, str) else None

    @property
    def event_source_arn(self) -> str | None:
        """``eventSourceARN``: the stream ARN (the Kinesis stream ARN for Kinesis)."""
        value = self.raw.get("eventSourceARN", self._record.get("eventSourceARN"))
        return value if isinstance(value, str) else None

    @property
    def table_name(self) -> str | None:
        """The table name, from ``tableName`` (Kinesis) or the stream ARN."""
        name = self._record.get("tableName")
        if isinstance(name, str):
            return name
        arn = self._record.get("eventSourceARN")
        return table_name_from_arn(arn) if isinstance(arn, str) else None

    @property
    def stream_view_type(self) -> StreamViewType | None:
        """``dynamodb.StreamViewType``; None for Kinesis change records, which carry none."""
        value = self._record["dynamodb"].get("StreamViewType")
        if value is None:
            return None
        view = _VIEW_TYPES.get(value) if isinstance(value, str) else None
        if view is None:
            raise _fail(
                f"unknown StreamViewType {value!r}",
                self._record,
                path=("dynamodb", "StreamViewType"),
            )
        return view

    @property
    def size_bytes(self) -> int | None:
        """``dynamodb.SizeBytes``."""
        value = self._record["dynamodb"].get("SizeBytes")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def approximate_creation_time(self) -> _dt.datetime | None:
        """``dynamodb.ApproximateCreationDateTime`` as an aware UTC datetime."""
        value = self._record["dynamodb"].get("ApproximateCreationDateTime")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(
                f"ApproximateCreationDateTime must be a number, got {value!r}",
                self._record,
                path=("dynamodb", "ApproximateCreationDateTime"),
            )
        seconds = float(value)
        if self._envelope == "kinesis":
            precision = self._record["dynamodb"].get("ApproximateCreationDateTimePrecision")
            micro = precision == "MICROSECOND"
            seconds = value / (1_000_000 if micro else 1000)
        try:
            return _epoch_to_datetime(seconds)
        except (OverflowError, ValueError, OSError):
            raise _fail(
                f"ApproximateCreationDateTime {value!r} is not a representable epoch time",
                self._record,
                path=("dynamodb", "ApproximateCreationDateTime"),
            ) from None

    @property
    def user_identity(self) -> Mapping[str, str] | None:
        """``userIdentity``: set by DynamoDB on TTL deletions, absent for user writes."""
        value = self._record.get("userIdentity")
        return value if isinstance(value, Mapping) else None

    @property
    def is_ttl_delete(self) -> bool:
        """True when DynamoDB's Time to Live deleted the item (REMOVE by the DynamoDB service)."""
        identity = self.user_identity
        if identity is None or self._record.get("eventName") != "REMOVE":
            return False
        kind = identity.get("type", identity.get("Type"))
        principal = identity.get("principalId", identity.get("PrincipalId"))
        return kind == "Service" and principal == "dynamodb.amazonaws.com"

    # -- images -----------------------------------------------------------------------------

    def _image(self, field: str) -> Image | None:
        raw = self._record["dynamodb"].get(field)
        if raw is None:
            return None
        if type(raw) is dict:
            # What Image(...) does, without the keyword call and the Mapping check; errors
            # read the event id and sequence number from this record.
            image = _new_object(Image)
            image._raw = raw
            image._name = field
            image._where = self
            image._cache = {}
            return image
        return Image(
            raw,
            name=field,
            event_id=self._record.get("eventID"),
            sequence_number=self.sequence_number,
        )

    @property
    def keys(self) -> Image:
        """``dynamodb.Keys``: the item's primary key."""
        if self._keys is None:
            keys = self._image("Keys")
            if keys is None:
                raise _fail("the record has no Keys", self._record, path=("dynamodb", "Keys"))
            self._keys = keys
        return self._keys

    @property
    def new_image(self) -> Image | None:
        """``dynamodb.NewImage``, or None when the record has none (absent is not empty)."""
        image: Image | None = self._new_image  # a plain annotation: cast() is a call
        if image is _MISSING:
            image = self._new_image = self._image("NewImage")
        return image

    @property
    def old_image(self) -> Image | None:
        """``dynamodb.OldImage``, or None when the record has none (absent is not empty)."""
        image: Image | None = self._old_image  # a plain annotation: cast() is a call
        if image is _MISSING:
            image = self._old_image = self._image("OldImage")
        return image

    @property
    def item_key(self) -> tuple[tuple[str, str], ...]:
        """A hashable identity of the item: sorted ``(name, descriptor JSON)`` pairs of Keys."""
        return tuple(
            sorted(
                (name, json.dumps(av, sort_keys=True, separators=(",", ":")))
                for name, av in self.keys.raw.items()
            )
        )

    # -- typed images -----------------------------------------------------------------------

    @property
    def model(self) -> type[Any] | None:
        """The user model the images are bound to, if any."""
        return self._model

    def bind(self, model: type[M]) -> StreamRecord[M]:
        """Return this record with its images bound to ``model``."""
        return StreamRecord(
            self._record,
            envelope=self._envelope,
            raw=self.raw,
            model=model,
            sequence_number=self.sequence_number,
        )

    def _typed(self, image: Image | None) -> Any:
        if image is None or self._model is None:
            return image
        return _bind_image()(self._model, image)

    @property
    def new(self) -> T | None:
        """The new image as the bound model (or the :class:`Image` without a model)."""
        if self._model is None:
            return self.new_image  # type: ignore[return-value]
        value: T | None = self._new  # a plain annotation: cast() is a call
        if value is _MISSING:
            value = self._new = self._typed(self.new_image)
        return value

    @property
    def old(self) -> T | None:
        """The old image as the bound model (or the :class:`Image` without a model)."""
        if self._model is None:
            return self.old_image  # type: ignore[return-value]
        value: T | None = self._old  # a plain annotation: cast() is a call
        if value is _MISSING:
            value = self._old = self._typed(self.old_image)
        return value

    def changed_attributes(self) -> frozenset[str]:
        """Names of the attributes that differ between the old and the new image.

        An INSERT changes every attribute of its new image and a REMOVE every attribute of its
        old image. A MODIFY needs both images.

        Raises:
            UsageError: a MODIFY without both images (the stream is not NEW_AND_OLD_IMAGES).
        """
        new, old = self.new_image, self.old_image
        name = self.event_name
        if name is EventName.INSERT and new is not None:
            return frozenset(new)
        if name is EventName.REMOVE and old is not None:
            return frozenset(old)
        if new is None or old is None:
            raise UsageError(
                "changed_attributes() needs both images: enable the NEW_AND_OLD_IMAGES stream "
                f"view type (record {self.event_id} has {self.stream_view_type})"
            )
        names = set(new) ^ set(old)
        for attr in set(new) & set(old):
            a, b = new.descriptor(attr), old.descriptor(attr)
            if a != b and not _same_value(a, b, new[attr], old[attr]):
                names.add(attr)
        return frozenset(names)

    # -- raw access -------------------------------------------------------------------------

    @property
    def lambda_record(self) -> Mapping[str, Any]:
        """The record in Lambda's DynamoDB-stream JSON shape (what filter patterns see)."""
        return self._record

    @property
    def raw(self) -> Mapping[str, Any]:
        """The envelope's own record, as the caller passed it."""
        try:
            return self._raw
        except AttributeError:  # built by StreamEvent from a Lambda or Pipes record
            return self._record

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamRecord):
            return NotImplemented
        return (
            self._envelope == other._envelope
            and self._model is other._model
            and self._record == other._record
        )

    def __hash__(self) -> int:
        return hash((self._envelope, self._record.get("eventID"), self.sequence_number))

    def __repr__(self) -> str:
        return (
            f"<StreamRecord {self._record.get('eventName')} seq={self.sequence_number} "
            f"keys={dict(self._record['dynamodb'].get('Keys') or {})!r}>"
        )


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
