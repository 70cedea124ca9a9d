"""Build the exact events Lambda delivers, from plain Python items, for unit tests.

``insert(item)``, ``modify(old, new)`` and ``remove(item)`` each return one record in Lambda's
DynamoDB-stream JSON shape (AWS's key order, numbers normalised as DynamoDB stores them,
binaries as base64 text, images as the stream view type keeps them). The module-level functions
return *templates*: the record has no ``eventID``, ``SequenceNumber`` or
``ApproximateCreationDateTime`` yet, and :func:`lambda_event`, :func:`pipes_event`,
:func:`kinesis_event` and :func:`tumbling_window_event` fill them in, increasing in event order.
So the same test code always builds the same event. An :class:`EventBuilder` instead stamps each
record when it is built, from a counter it keeps across events, which is what a test of
redelivery needs (the same record, with the same sequence number, in two events).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from .._codec import serialize_image
from .._errors import UsageError
from .._shapes import TTL_USER_IDENTITY
from .._types import EventName, StreamViewType

__all__ = [
    "EventBuilder",
    "dynamodb_number_text",
    "image_of",
    "insert",
    "kinesis_event",
    "lambda_event",
    "modify",
    "pipes_event",
    "record_template",
    "remove",
    "size_bytes_of",
    "tumbling_window_event",
]

Precision = Literal["MILLISECOND", "MICROSECOND"]
ViewType = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]

_VIEW_TYPES = tuple(view.value for view in StreamViewType)
_BOTH = StreamViewType.NEW_AND_OLD_IMAGES.value
_DEFAULT_TABLE = "Table"
_DEFAULT_REGION = "us-east-1"
_ACCOUNT = "123456789012"
_STREAM_LABEL = "2024-06-10T00:00:00.000"
#: First sequence number handed out (21 digits, like AWS's); later ones step by _SEQUENCE_STEP
#: so that code assuming consecutive numbers fails in tests, as it would on AWS.
_FIRST_SEQUENCE = 100_000_000_000_000_000_000
_SEQUENCE_STEP = 100
_FIRST_TIME = 1_718_000_000.0  # 2024-06-10T06:13:20Z
_KINESIS_FIRST_SEQUENCE = 49_650_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_002
_IMPLICIT_KEYS = (("pk", "sk"), ("PK", "SK"))


def dynamodb_number_text(value: Decimal | int) -> str:
    """The text DynamoDB stores for a number: plain notation, no leading or trailing zeros.

    ``Decimal("1.50")`` is stored as ``"1.5"``, ``Decimal("1E+2")`` as ``"100"`` and
    ``Decimal("-0")`` as ``"0"``.
    """
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _normalize(av: Any) -> Any:
    """A descriptor with every number in DynamoDB's stored spelling."""
    ((tag, value),) = av.items()
    if tag == "N":
        return {"N": dynamodb_number_text(Decimal(value))}
    if tag == "NS":
        return {"NS": [dynamodb_number_text(Decimal(v)) for v in value]}
    if tag == "M":
        return {"M": {k: _normalize(v) for k, v in value.items()}}
    if tag == "L":
        return {"L": [_normalize(v) for v in value]}
    return dict(av)


def image_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The image of a plain Python item as the stream writes it (numbers as DynamoDB stores
    them)."""
    return {name: _normalize(av) for name, av in serialize_image(item).items()}


def _key_names(item: Mapping[str, Any], keys: Sequence[str] | None) -> tuple[str, ...]:
    if keys is not None:
        names = (keys,) if isinstance(keys, str) else tuple(keys)
        missing = [name for name in names if name not in item]
        if not names or missing:
            raise UsageError(f"the item lacks the key attribute(s) {missing or names!r}: {item!r}")
        return names
    for family in _IMPLICIT_KEYS:
        names = tuple(name for name in family if name in item)
        if names:
            return names
    if not item:
        raise UsageError("an item needs at least one attribute to serve as its key")
    return (next(iter(item)),)


def size_bytes_of(*images: Mapping[str, Any] | None) -> int:
    """A plausible ``SizeBytes`` for a record with these images (never below 1)."""
    parts = [json.dumps(i, separators=(",", ":")) for i in images if i is not None]
    return max(1, sum(len(p) for p in parts) // 2)


def record_template(
    name: str,
    keys: dict[str, Any],
    new: dict[str, Any] | None,
    old: dict[str, Any] | None,
    *,
    view_type: str,
    ttl: bool = False,
) -> dict[str, Any]:
    if view_type not in _VIEW_TYPES:
        raise UsageError(f"{view_type=} is not one of {', '.join(_VIEW_TYPES)}")
    dynamodb: dict[str, Any] = {"Keys": keys}
    if new is not None and view_type in (StreamViewType.NEW_IMAGE, _BOTH):
        dynamodb["NewImage"] = new
    if old is not None and view_type in (StreamViewType.OLD_IMAGE, _BOTH):
        dynamodb["OldImage"] = old
    dynamodb["SizeBytes"] = size_bytes_of(keys, dynamodb.get("NewImage"), dynamodb.get("OldImage"))
    dynamodb["StreamViewType"] = view_type
    record: dict[str, Any] = {"eventName": name, "dynamodb": dynamodb}
    if ttl:
        record["userIdentity"] = dict(TTL_USER_IDENTITY)
    return record


def insert(
    item: Mapping[str, Any],
    *,
    keys: Sequence[str] | None = None,
    view_type: ViewType = "NEW_AND_OLD_IMAGES",
) -> dict[str, Any]:
    """An INSERT record template for a new item (plain Python values).

    Args:
        item: the new item, e.g. ``{"pk": "a", "qty": 3}``; values as :func:`ddbstream.serialize`
            takes them.
        keys: names of the key attributes. By default the item's ``pk``/``sk`` (or ``PK``/``SK``)
            attributes, else its first attribute.
        view_type: the stream view type; it decides which images the record carries.

    Raises:
        EncodeError: a value DynamoDB cannot store (a float, an empty set...).
        UsageError: a key attribute is missing.

    Example:
        >>> from ddbstream.testing import insert
        >>> insert({"pk": "a", "qty": 3})["dynamodb"]["NewImage"]
        {'pk': {'S': 'a'}, 'qty': {'N': '3'}}
    """
    names = _key_names(item, keys)
    image = image_of(item)
    key = {n: image[n] for n in names}
    return record_template(EventName.INSERT.value, key, image, None, view_type=view_type)


def modify(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    keys: Sequence[str] | None = None,
    view_type: ViewType = "NEW_AND_OLD_IMAGES",
) -> dict[str, Any]:
    """A MODIFY record template: the item changed from ``old`` to ``new`` (same key).

    Raises:
        UsageError: ``old`` and ``new`` have different key values.

    Example:
        >>> from ddbstream.testing import modify
        >>> record = modify({"pk": "a", "qty": 1}, {"pk": "a", "qty": 2})
        >>> record["dynamodb"]["OldImage"]["qty"], record["dynamodb"]["NewImage"]["qty"]
        ({'N': '1'}, {'N': '2'})
    """
    names = _key_names(new, keys)
    new_image, old_image = image_of(new), image_of(old)
    key = {n: new_image[n] for n in names}
    if any(old_image.get(n) != av for n, av in key.items()):
        raise UsageError(f"modify() needs the same key in old and new, got {old!r} and {new!r}")
    return record_template(EventName.MODIFY.value, key, new_image, old_image, view_type=view_type)


def remove(
    item: Mapping[str, Any],
    *,
    keys: Sequence[str] | None = None,
    ttl: bool = False,
    view_type: ViewType = "NEW_AND_OLD_IMAGES",
) -> dict[str, Any]:
    """A REMOVE record template for a deleted item (its last state).

    Args:
        ttl: the item expired through Time to Live: the record gets DynamoDB's service
            ``userIdentity``, as AWS writes it.

    Example:
        >>> from ddbstream.testing import remove
        >>> remove({"pk": "a"}, ttl=True)["userIdentity"]
        {'type': 'Service', 'principalId': 'dynamodb.amazonaws.com'}
    """
    names = _key_names(item, keys)
    image = image_of(item)
    return record_template(
        EventName.REMOVE.value,
        {n: image[n] for n in names},
        None,
        image,
        view_type=view_type,
        ttl=ttl,
    )


def _stream_arn(table_name: str, region: str) -> str:
    return f"arn:aws:dynamodb:{region}:{_ACCOUNT}:table/{table_name}/stream/{_STREAM_LABEL}"


def _event_id(table_name: str, sequence_number: str) -> str:
    return hashlib.md5(
        f"{table_name}/{sequence_number}".encode(), usedforsecurity=False
    ).hexdigest()


def _isoformat(value: _dt.datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_ORDER = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "userIdentity")
_DDB_ORDER = (
    "ApproximateCreationDateTime",
    "Keys",
    "NewImage",
    "OldImage",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
)


class EventBuilder:
    """Builds records and events for one table, numbering records as a stream shard would.

    Each record gets its ``SequenceNumber`` (21 digits, increasing by a gap), ``eventID`` (32 hex
    characters) and ``ApproximateCreationDateTime`` (whole seconds, increasing) when it is
    built, so a record put into two events is the same record twice, exactly as Lambda
    redelivers it. Records made elsewhere (such as the module-level :func:`insert`) are numbered
    when they go into an event.

    Args:
        table_name: the table, used in ``eventSourceARN`` and Kinesis ``tableName``.
        region: ``awsRegion``.
        view_type: the stream view type of the records it builds.
        keys: names of the key attributes (see :func:`insert`).

    Example:
        >>> from ddbstream.testing import EventBuilder
        >>> orders = EventBuilder("Orders")
        >>> first = orders.insert({"pk": "o1", "total": 5})
        >>> event = orders.lambda_event(first, orders.remove({"pk": "o1", "total": 5}))
        >>> [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        ['100000000000000000000', '100000000000000000100']
    """

    __slots__ = ("_next", "_region", "_table_name", "_view_type", "keys")

    def __init__(
        self,
        table_name: str = _DEFAULT_TABLE,
        *,
        region: str = _DEFAULT_REGION,
        view_type: ViewType = "NEW_AND_OLD_IMAGES",
        keys: Sequence[str] | None = None,
    ) -> None:
        if view_type not in _VIEW_TYPES:
            raise UsageError(f"{view_type=} is not one of {', '.join(_VIEW_TYPES)}")
        self._table_name = table_name
        self._region = region
        self._view_type: ViewType = view_type
        self.keys = tuple(keys) if keys is not None else None
        self._next = 0

    def __repr__(self) -> str:
        args = [repr(self._table_name)] if self._table_name != _DEFAULT_TABLE else []
        if self._region != _DEFAULT_REGION:
            args.append(f"region={self._region!r}")
        if self._view_type != _BOTH:
            args.append(f"view_type={self._view_type!r}")
        if self.keys is not None:
            args.append(f"keys={self.keys!r}")
        return f"EventBuilder({', '.join(args)})"

    @property
    def table_name(self) -> str:
        """The table the records belong to."""
        return self._table_name

    @property
    def stream_arn(self) -> str:
        """The stream ARN put in ``eventSourceARN``."""
        return _stream_arn(self._table_name, self._region)

    # -- records ----------------------------------------------------------------------------

    def insert(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """A stamped INSERT record (see :func:`insert`)."""
        return self.stamp(insert(item, keys=self.keys, view_type=self._view_type))

    def modify(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """A stamped MODIFY record (see :func:`modify`)."""
        return self.stamp(modify(old, new, keys=self.keys, view_type=self._view_type))

    def remove(self, item: Mapping[str, Any], *, ttl: bool = False) -> dict[str, Any]:
        """A stamped REMOVE record (see :func:`remove`)."""
        return self.stamp(remove(item, keys=self.keys, ttl=ttl, view_type=self._view_type))

    def stamp(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``record`` completed with the fields it lacks, in AWS's key order.

        Missing ``eventID``, ``SequenceNumber`` and ``ApproximateCreationDateTime`` are taken
        from this builder's counter; a record that has a ``SequenceNumber`` moves the counter
        past it. The input is not mutated.
        """
        ddb_in = record.get("dynamodb")
        ddb_in = ddb_in if isinstance(ddb_in, Mapping) else {}
        seq = ddb_in.get("SequenceNumber")
        if isinstance(seq, str) and seq.isdigit():
            count = max(0, (int(seq) - _FIRST_SEQUENCE) // _SEQUENCE_STEP)
            self._next = max(self._next, count + 1)
        else:
            count = self._next
            self._next += 1
            seq = str(_FIRST_SEQUENCE + count * _SEQUENCE_STEP)
        fields: dict[str, Any] = {
            "eventID": _event_id(self._table_name, seq),
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self._region,
            **record,
        }
        dynamodb = {"ApproximateCreationDateTime": _FIRST_TIME + count, **ddb_in}
        dynamodb["SequenceNumber"] = seq
        out = {k: fields[k] for k in _ORDER if k in fields}
        out["dynamodb"] = {k: dynamodb[k] for k in _DDB_ORDER if k in dynamodb}
        out["dynamodb"].update((k, v) for k, v in dynamodb.items() if k not in _DDB_ORDER)
        out["eventSourceARN"] = fields.get("eventSourceARN", self.stream_arn)
        out.update((k, v) for k, v in fields.items() if k not in out and k != "dynamodb")
        return out

    def _stamped(self, records: tuple[Any, ...]) -> list[dict[str, Any]]:
        if len(records) == 1 and isinstance(records[0], (list, tuple)):
            records = tuple(records[0])
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise UsageError(f"record {index} is a {type(record).__name__}, not a mapping")
        return [self.stamp(r) for r in records]

    # -- events -----------------------------------------------------------------------------

    def lambda_event(self, *records: Mapping[str, Any]) -> dict[str, Any]:
        """The Lambda DynamoDB stream event ``{"Records": [...]}`` of these records.

        A single list argument is taken as the records too (``lambda_event(read_stream(...))``).
        """
        return {"Records": self._stamped(records)}

    def pipes_event(self, *records: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The EventBridge Pipes event of these records: a bare JSON array."""
        return self._stamped(records)

    def kinesis_event(
        self, *records: Mapping[str, Any], precision: Precision = "MILLISECOND"
    ) -> dict[str, Any]:
        """The Lambda event of a Kinesis Data Streams for DynamoDB source.

        Each record's ``kinesis.data`` is the base64 JSON change record KDS writes: no
        ``SequenceNumber`` and no ``StreamViewType``, ``tableName``, ``recordFormat``,
        ``userIdentity`` (null, or the TTL service identity), and ``ApproximateCreationDateTime``
        as an integer in milliseconds or microseconds (``precision``).
        """
        if precision not in ("MILLISECOND", "MICROSECOND"):
            raise UsageError(f"{precision=} must be 'MILLISECOND' or 'MICROSECOND'")
        stamped = self._stamped(records)
        out = []
        for lambda_record in stamped:
            out.append(self._kinesis_record(lambda_record, precision))
        return {"Records": out}

    def _kinesis_record(self, record: Mapping[str, Any], precision: Precision) -> dict[str, Any]:
        ddb = record["dynamodb"]
        seq = int(ddb["SequenceNumber"])
        scale = 1_000_000 if precision == "MICROSECOND" else 1000
        created = ddb.get("ApproximateCreationDateTime", _FIRST_TIME)
        change_ddb: dict[str, Any] = {"ApproximateCreationDateTime": int(created * scale)}
        change_ddb.update(
            (k, ddb[k]) for k in ("Keys", "NewImage", "OldImage", "SizeBytes") if k in ddb
        )
        if precision == "MICROSECOND":
            change_ddb["ApproximateCreationDateTimePrecision"] = "MICROSECOND"
        change = {
            "awsRegion": record.get("awsRegion", self._region),
            "eventID": _kinesis_event_id(record["eventID"]),
            "eventName": record["eventName"],
            "userIdentity": record.get("userIdentity"),
            "recordFormat": "application/json",
            "tableName": self._table_name,
            "dynamodb": change_ddb,
            "eventSource": "aws:dynamodb",
        }
        kinesis_seq = str(_KINESIS_FIRST_SEQUENCE + seq)
        data = base64.b64encode(json.dumps(change, separators=(",", ":")).encode()).decode()
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": hashlib.md5(
                    json.dumps(ddb["Keys"], sort_keys=True).encode(), usedforsecurity=False
                )
                .hexdigest()
                .upper(),
                "sequenceNumber": kinesis_seq,
                "data": data,
                "approximateArrivalTimestamp": float(created) + 0.5,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"shardId-000000000000:{kinesis_seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{_ACCOUNT}:role/lambda-kinesis-role",
            "awsRegion": self._region,
            "eventSourceARN": (
                f"arn:aws:kinesis:{self._region}:{_ACCOUNT}:stream/{self._table_name}-changes"
            ),
        }

    def tumbling_window_event(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        start: _dt.datetime | str,
        end: _dt.datetime | str,
        state: Mapping[str, Any] | None = None,
        shard_id: str = "shardId-00000001718000000000-0a1b2c3d",
        final: bool = False,
        terminated_early: bool = False,
    ) -> dict[str, Any]:
        """A tumbling-window invocation: the records plus ``window``, ``state``, ``shardId``,
        ``eventSourceARN``, ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly``.

        ``state`` defaults to ``{}``, what the first invocation of a window receives.
        """
        return {
            "Records": self._stamped(tuple(records)),
            "window": {"start": _isoformat(start), "end": _isoformat(end)},
            "state": dict(state) if state is not None else {},
            "shardId": shard_id,
            "eventSourceARN": self.stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": terminated_early,
        }


def _kinesis_event_id(event_id: Any) -> Any:
    """KDS change records carry a UUID eventID; spell a 32-hex id as one."""
    if isinstance(event_id, str) and len(event_id) == 32:
        try:
            return str(uuid.UUID(hex=event_id))
        except ValueError:
            return event_id
    return event_id


def lambda_event(*records: Mapping[str, Any]) -> dict[str, Any]:
    """The Lambda DynamoDB stream event ``{"Records": [...]}`` of these records.

    Records that lack ``eventID``, ``SequenceNumber`` or ``ApproximateCreationDateTime`` get
    them, increasing in argument order and starting from the same value on every call; complete
    records are copied as they are. A single list argument is taken as the records too
    (``lambda_event(read_stream(...))``).

    Example:
        >>> from ddbstream.testing import insert, lambda_event, modify
        >>> first, second = {"pk": "a", "n": 1}, {"pk": "a", "n": 2}
        >>> event = lambda_event(insert(first), modify(first, second))
        >>> [r["eventName"] for r in event["Records"]]
        ['INSERT', 'MODIFY']
    """
    return EventBuilder().lambda_event(*records)


def pipes_event(*records: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The EventBridge Pipes event of these records: a bare JSON array (numbered as by
    :func:`lambda_event`)."""
    return EventBuilder().pipes_event(*records)


def kinesis_event(
    *records: Mapping[str, Any], precision: Precision = "MILLISECOND"
) -> dict[str, Any]:
    """The Lambda event of a Kinesis Data Streams for DynamoDB source (see
    :meth:`EventBuilder.kinesis_event`)."""
    return EventBuilder().kinesis_event(*records, precision=precision)


def tumbling_window_event(
    records: Iterable[Mapping[str, Any]],
    *,
    start: _dt.datetime | str,
    end: _dt.datetime | str,
    state: Mapping[str, Any] | None = None,
    shard_id: str = "shardId-00000001718000000000-0a1b2c3d",
    final: bool = False,
    terminated_early: bool = False,
) -> dict[str, Any]:
    """A tumbling-window invocation of these records (see
    :meth:`EventBuilder.tumbling_window_event`)."""
    return EventBuilder().tumbling_window_event(
        records,
        start=start,
        end=end,
        state=state,
        shard_id=shard_id,
        final=final,
        terminated_early=terminated_early,
    )
