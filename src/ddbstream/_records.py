"""Typed, lazily decoded DynamoDB stream records.

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

import datetime as _dt
import enum
import functools
import json
from collections.abc import Mapping
from typing import Any, Generic, Literal

from typing_extensions import TypeVar

from ._errors import DecodeError, PathItem, UsageError
from ._image import _MISSING, Image, same_value
from ._shapes import table_name_from_arn

__all__ = [
    "EventName",
    "StreamRecord",
    "StreamViewType",
]

T = TypeVar("T", default=Mapping[str, Any])
M = TypeVar("M")
Envelope = Literal["lambda", "kinesis", "pipes"]


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


@functools.cache
def _bind_image() -> Any:
    """``_binding.bind_image``, imported once on first use (it imports pydantic lazily)."""
    from ._binding import bind_image

    return bind_image


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
            if a != b and not same_value(a, b, new[attr], old[attr]):
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
