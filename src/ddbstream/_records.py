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
import json
from collections.abc import Iterable, Mapping
from typing import Any, Generic

from typing_extensions import TypeVar

from ._binding import bind_image
from ._errors import DecodeError, MissingImageError, PathItem, UsageError
from ._image import Image, same_attribute
from ._reprs import short_repr
from ._shapes import TTL_USER_IDENTITY, table_name_from_arn
from ._types import Envelope, EventName, StreamViewType

__all__ = [
    "EventName",  # defined in _types; named here too for modules that import it from records
    "StreamRecord",
    "StreamViewType",
    "bind_now",
]

T = TypeVar("T", default=Mapping[str, Any])
M = TypeVar("M")

_MISSING: Any = object()
_image_of = Image._of  # bound once: records make images on the lazy-access hot path
_EVENT_NAMES = {e.value: e for e in EventName}
_VIEW_TYPES = {v.value: v for v in StreamViewType}


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _fail(reason: str, raw: Mapping[str, Any], *, path: tuple[PathItem, ...] = ()) -> DecodeError:
    ddb = raw.get("dynamodb")
    seq = ddb.get("SequenceNumber") if isinstance(ddb, Mapping) else None
    return DecodeError(
        reason,
        path=path,
        event_id=_text_or_none(raw.get("eventID")),
        sequence_number=_text_or_none(seq),
    )


def _is_sequence_number(value: str) -> bool:
    return value.isdigit() and value.isascii()


class StreamRecord(Generic[T]):
    """One change of one item, as delivered by a DynamoDB stream.

    ``StreamRecord[Invoice]`` binds the images to a user model (pydantic model, dataclass or
    TypedDict): ``record.new`` and ``record.old`` are then validated ``Invoice`` values.
    Without a model they are the :class:`Image` mappings themselves. ``record.require_new()``
    returns the new image when the handler needs one, or raises
    :class:`~ddbstream.MissingImageError` naming the record.

    Example:
        >>> from ddbstream import StreamEvent
        >>> from ddbstream.testing import insert, lambda_event
        >>> record = StreamEvent.from_lambda(lambda_event(insert({"pk": "a", "n": 1}))).records[0]
        >>> record.event_name, record.keys["pk"], record.new_image["n"]
        (<EventName.INSERT: 'INSERT'>, 'a', Decimal('1'))
    """

    __slots__ = ("_envelope", "_keys", "_new_image", "_old_image", "_raw", "_record", "_seq")

    def __new__(
        cls,
        record: Mapping[str, Any],
        *,
        envelope: Envelope = "lambda",
        raw: Mapping[str, Any] | None = None,
        model: type[T] | None = None,
        sequence_number: str | None = None,
    ) -> StreamRecord[T]:
        # The one constructor (there is no __init__): a record bound to a model is made a
        # _BoundRecord, the only kind with the slots of typed images.
        if not isinstance(record, Mapping):
            raise DecodeError(f"a stream record must be an object, got {type(record).__name__}")
        ddb = record.get("dynamodb")
        if not isinstance(ddb, Mapping):
            raise _fail("the record has no 'dynamodb' object", record, path=("dynamodb",))
        seq = sequence_number if sequence_number is not None else ddb.get("SequenceNumber")
        if not isinstance(seq, str) or not _is_sequence_number(seq):
            raise _fail(
                f"SequenceNumber must be a string of digits, got {short_repr(seq)}",
                record,
                path=("dynamodb", "SequenceNumber"),
            )
        instance: StreamRecord[T] = object.__new__(_BoundRecord if model is not None else cls)
        instance._set(record, seq, envelope, raw if raw is not None else record, model)
        return instance

    def _set(
        self,
        record: Mapping[str, Any],
        seq: str,
        envelope: Envelope,
        raw: Mapping[str, Any],
        model: type[Any] | None,
    ) -> None:
        self._record = record
        self._seq = seq
        self._envelope = envelope
        self._raw = raw
        self._keys: Image | None = None
        self._new_image: Any = _MISSING
        self._old_image: Any = _MISSING

    @classmethod
    def _trusted(
        cls,
        items: Iterable[tuple[dict[str, Any], str]],
        *,
        envelope: Envelope,
        model: type[Any] | None,
    ) -> tuple[StreamRecord[Any], ...]:
        """Records of ``(record, SequenceNumber)`` pairs whose checks the caller already made
        (each record a dict with a ``dynamodb`` dict and that SequenceNumber in it): what
        :class:`~ddbstream.StreamEvent` builds after checking a whole batch in one pass.

        The slots of an unbound record are those :meth:`_set` fills, stored inline: a call per
        record would cost a fifth of what a whole record costs (``bench/router.py``).
        """
        out: list[StreamRecord[Any]] = []
        new = object.__new__
        if model is not None:
            for item, seq in items:
                bound: StreamRecord[Any] = new(_BoundRecord)
                bound._set(item, seq, envelope, item, model)
                out.append(bound)
            return tuple(out)
        append = out.append
        for item, seq in items:
            record: StreamRecord[Any] = new(cls)
            record._record = record._raw = item
            record._seq = seq
            record._envelope = envelope
            record._keys = None
            record._new_image = record._old_image = _MISSING
            append(record)
        return tuple(out)

    # -- identity ---------------------------------------------------------------------------

    @property
    def event_id(self) -> str:
        """``eventID``: globally unique id of the record."""
        value = self._record.get("eventID")
        if not isinstance(value, str):
            raise _fail(
                f"eventID must be a string, got {short_repr(value)}",
                self._record,
                path=("eventID",),
            )
        return value

    @property
    def event_name(self) -> EventName:
        """``eventName``: INSERT, MODIFY or REMOVE."""
        value = self._record.get("eventName")
        name = _EVENT_NAMES.get(value) if isinstance(value, str) else None
        if name is None:
            raise _fail(
                f"eventName must be INSERT, MODIFY or REMOVE, got {short_repr(value)}",
                self._record,
                path=("eventName",),
            )
        return name

    @property
    def sequence_number(self) -> str:
        """``dynamodb.SequenceNumber`` (digits, up to 40; compare with ``int()``). For Kinesis
        envelopes, which carry none, the Kinesis record's ``sequenceNumber``."""
        return self._seq

    @property
    def item_identifier(self) -> str:
        """What a partial batch response reports for this record: the SequenceNumber for
        Lambda streams, the eventID for EventBridge Pipes, the Kinesis sequence number for
        Kinesis."""
        return self.event_id if self._envelope == "pipes" else self._seq

    @property
    def envelope(self) -> Envelope:
        """Which envelope delivered the record."""
        return self._envelope

    @property
    def event_version(self) -> str | None:
        """``eventVersion`` (``"1.1"`` on AWS); None for Kinesis change records."""
        return _text_or_none(self._record.get("eventVersion"))

    @property
    def event_source(self) -> str:
        """``eventSource``: ``"aws:dynamodb"``."""
        return _text_or_none(self._record.get("eventSource")) or "aws:dynamodb"

    @property
    def aws_region(self) -> str | None:
        """``awsRegion``."""
        return _text_or_none(self._record.get("awsRegion"))

    @property
    def event_source_arn(self) -> str | None:
        """``eventSourceARN``: the stream ARN (the Kinesis stream ARN for Kinesis)."""
        return _text_or_none(self._raw.get("eventSourceARN", self._record.get("eventSourceARN")))

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
        value = self._dynamodb.get("StreamViewType")
        if value is None:
            return None
        view = _VIEW_TYPES.get(value) if isinstance(value, str) else None
        if view is None:
            raise self._error(
                f"unknown StreamViewType {short_repr(value)}", ("dynamodb", "StreamViewType")
            )
        return view

    @property
    def size_bytes(self) -> int | None:
        """``dynamodb.SizeBytes``."""
        value = self._dynamodb.get("SizeBytes")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def approximate_creation_time(self) -> _dt.datetime | None:
        """``dynamodb.ApproximateCreationDateTime`` as an aware UTC datetime.

        Raises:
            DecodeError: the value is not a number, or no date a clock could show.
        """
        value = self._dynamodb.get("ApproximateCreationDateTime")
        if value is None:
            return None
        path = ("dynamodb", "ApproximateCreationDateTime")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._error(
                f"ApproximateCreationDateTime must be a number, got {short_repr(value)}", path
            )
        try:
            seconds = float(value)
            if self._envelope == "kinesis":
                precision = self._dynamodb.get("ApproximateCreationDateTimePrecision")
                seconds = value / (1_000_000 if precision == "MICROSECOND" else 1000)
            return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)
        except (OverflowError, ValueError, OSError):
            raise self._error(
                f"ApproximateCreationDateTime {short_repr(value)} is not a representable "
                "epoch time",
                path,
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
        if identity is None or self._record.get("eventName") != EventName.REMOVE:
            return False
        kind = identity.get("type", identity.get("Type"))
        principal = identity.get("principalId", identity.get("PrincipalId"))
        return kind == TTL_USER_IDENTITY["type"] and principal == TTL_USER_IDENTITY["principalId"]

    @property
    def _dynamodb(self) -> Mapping[str, Any]:
        ddb = self._record.get("dynamodb")
        if type(ddb) is not dict and not isinstance(ddb, Mapping):  # changed since it was built
            raise self._error("the record has no 'dynamodb' object", ("dynamodb",))
        return ddb

    def _error(self, reason: str, path: tuple[PathItem, ...]) -> DecodeError:
        return _fail(reason, self._record, path=path)

    # -- images -----------------------------------------------------------------------------

    def _image(self, field: str) -> Image | None:
        ddb = self._record.get("dynamodb")
        raw = (ddb if type(ddb) is dict else self._dynamodb).get(field)
        if raw is None:
            return None
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise self._error(
                f"{field} must be an object, got {type(raw).__name__}", ("dynamodb", field)
            )
        return _image_of(raw, field, self)

    @property
    def keys(self) -> Image:
        """``dynamodb.Keys``: the item's primary key."""
        if self._keys is None:
            keys = self._image("Keys")
            if keys is None:
                raise self._error("the record has no Keys", ("dynamodb", "Keys"))
            self._keys = keys
        return self._keys

    @property
    def new_image(self) -> Image | None:
        """``dynamodb.NewImage``, or None when the record has none (absent is not empty)."""
        image: Image | None = self._new_image
        if image is _MISSING:
            image = self._new_image = self._image("NewImage")
        return image

    @property
    def old_image(self) -> Image | None:
        """``dynamodb.OldImage``, or None when the record has none (absent is not empty)."""
        image: Image | None = self._old_image
        if image is _MISSING:
            image = self._old_image = self._image("OldImage")
        return image

    @property
    def item_key(self) -> tuple[tuple[str, str], ...]:
        """A hashable identity of the item: sorted ``(name, descriptor JSON)`` pairs of Keys.

        Raises:
            DecodeError: a key attribute breaks DynamoDB's rules.
        """
        keys = self.keys
        keys.to_dict()  # validates every key attribute, so each descriptor is plain JSON
        return tuple(
            sorted(
                (name, json.dumps(av, sort_keys=True, separators=(",", ":")))
                for name, av in keys.raw.items()
            )
        )

    # -- typed images -----------------------------------------------------------------------

    @property
    def model(self) -> type[T] | None:
        """The user model the images are bound to, if any."""
        return None

    def bind(self, model: type[M]) -> StreamRecord[M]:
        """Return this record with its images bound to ``model``."""
        record: StreamRecord[M] = object.__new__(_BoundRecord)
        record._set(self._record, self._seq, self._envelope, self._raw, model)
        return record

    @property
    def new(self) -> T | None:
        """The new image as the bound model (or the :class:`Image` without a model); None when
        the record has none. :meth:`require_new` returns it or raises."""
        return self.new_image  # type: ignore[return-value]

    @property
    def old(self) -> T | None:
        """The old image as the bound model (or the :class:`Image` without a model); None when
        the record has none. :meth:`require_old` returns it or raises."""
        return self.old_image  # type: ignore[return-value]

    def require_new(self) -> T:
        """The new image (as :attr:`new`), for a handler that cannot work without one.

        Raises:
            MissingImageError: the record has no NewImage (a REMOVE; a ``KEYS_ONLY`` or
                ``OLD_IMAGE`` stream), naming the record.

        Example:
            >>> from ddbstream import StreamEvent
            >>> from ddbstream.testing import insert, lambda_event
            >>> event = StreamEvent.from_lambda(lambda_event(insert({"pk": "a", "n": 2})))
            >>> event.records[0].require_new()["n"]
            Decimal('2')
        """
        value = self.new
        if value is None:
            raise self._missing("NewImage")
        return value

    def require_old(self) -> T:
        """The old image (as :attr:`old`), for a handler that cannot work without one.

        Raises:
            MissingImageError: the record has no OldImage (an INSERT; a ``KEYS_ONLY`` or
                ``NEW_IMAGE`` stream), naming the record.
        """
        value = self.old
        if value is None:
            raise self._missing("OldImage")
        return value

    def _missing(self, field: str) -> MissingImageError:
        name = self._record.get("eventName")
        view = self._dynamodb.get("StreamViewType")
        if (name, field) in ((EventName.REMOVE, "NewImage"), (EventName.INSERT, "OldImage")):
            reason = f"{'an' if name == EventName.INSERT else 'a'} {name} record has no {field}"
        elif isinstance(view, str) and view in _VIEW_TYPES:
            reason = f"a record of a {view} stream has no {field}"
        else:
            reason = f"the record has no {field}"
        seq = self._seq
        event_id = _text_or_none(self._record.get("eventID"))
        return MissingImageError(
            reason, path=("dynamodb", field), event_id=event_id, sequence_number=seq
        )

    def changed_attributes(self) -> frozenset[str]:
        """Names of the attributes that differ between the old and the new image.

        An INSERT changes every attribute of its new image and a REMOVE every attribute of its
        old image. A MODIFY needs both images.

        Raises:
            UsageError: a MODIFY without both images (the stream is not NEW_AND_OLD_IMAGES).
            DecodeError: an attribute of either image breaks DynamoDB's rules.
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
        names.update(a for a in set(new) & set(old) if not same_attribute(new, old, a))
        return frozenset(names)

    # -- raw access -------------------------------------------------------------------------

    @property
    def lambda_record(self) -> Mapping[str, Any]:
        """The record in Lambda's DynamoDB-stream JSON shape (what filter patterns see)."""
        return self._record

    @property
    def raw(self) -> Mapping[str, Any]:
        """The envelope's own record, as the caller passed it."""
        return self._raw

    def __reduce__(self) -> tuple[object, ...]:
        # pickle and copy rebuild a record from what it was made of (its caches start empty)
        return (_restore, (self._record, self._seq, self._envelope, self._raw, self.model))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamRecord):
            return NotImplemented
        if (self._envelope, self.model, self._seq) != (other._envelope, other.model, other._seq):
            return False
        try:
            return bool(self._record == other._record)
        except RecursionError:  # a nest deeper than Python compares: no record has one
            return self._record is other._record

    def __hash__(self) -> int:
        return hash((self._envelope, _text_or_none(self._record.get("eventID")), self._seq))

    def __repr__(self) -> str:
        ddb = self._record.get("dynamodb")
        keys = ddb.get("Keys") if isinstance(ddb, Mapping) else None
        name = self._record.get("eventName")
        shown = name if isinstance(name, str) and name in _EVENT_NAMES else short_repr(name)
        return f"<StreamRecord {shown} seq={self._seq} keys={short_repr(keys, limit=200)}>"


class _BoundRecord(StreamRecord[T]):
    """A record whose images are validated as its model (what ``bind`` and ``model=`` make):
    ``new`` and ``old`` are model values, validated on first use and cached."""

    __slots__ = ("_model", "_new", "_old")

    def _set(
        self,
        record: Mapping[str, Any],
        seq: str,
        envelope: Envelope,
        raw: Mapping[str, Any],
        model: type[Any] | None,
    ) -> None:
        super()._set(record, seq, envelope, raw, model)
        self._model = model
        self._new: Any = _MISSING
        self._old: Any = _MISSING

    @property
    def model(self) -> type[T] | None:
        return self._model

    def _validated(self, image: Image | None) -> Any:
        return None if image is None or self._model is None else bind_image(self._model, image)

    @property
    def new(self) -> T | None:
        value: T | None = self._new
        if value is _MISSING:
            value = self._new = self._validated(self.new_image)
        return value

    @property
    def old(self) -> T | None:
        value: T | None = self._old
        if value is _MISSING:
            value = self._old = self._validated(self.old_image)
        return value


def _restore(
    record: Mapping[str, Any],
    seq: str,
    envelope: Envelope,
    raw: Mapping[str, Any],
    model: type[Any] | None,
) -> StreamRecord[Any]:
    instance: StreamRecord[Any] = object.__new__(
        _BoundRecord if model is not None else StreamRecord
    )
    instance._set(record, seq, envelope, raw, model)
    return instance


def bind_now(record: StreamRecord[Any], model: type[M] | None) -> StreamRecord[Any]:
    """``record`` bound to ``model`` with both images validated now, so that a record that does
    not fit fails before anything runs with it (the record itself when ``model`` is None).

    Raises:
        ImageValidationError: an image does not validate against ``model``.
        DecodeError: an attribute breaks DynamoDB's rules.
    """
    if model is None:
        return record
    bound = record.bind(model)
    bound.new  # noqa: B018 - validates and caches
    bound.old  # noqa: B018
    return bound
