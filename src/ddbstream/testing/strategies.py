"""Hypothesis strategies for DynamoDB values, items, stream records, events and histories: every
strategy of the testing kit lives in this one namespace.

Everything drawn obeys DynamoDB's rules, so :func:`ddbstream.deserialize` accepts it: numbers are
spelt as DynamoDB stores them (plain notation, no leading or trailing zeros) with at most 38
significant digits and magnitudes from 1E-130 to 9.99...E+125; sets are non-empty and without
duplicates; binaries are canonical base64; attribute names are non-empty; key attributes are
non-empty S, N or B values. Records are consistent with their view type: an INSERT has no
OldImage, a REMOVE no NewImage, KEYS_ONLY no image at all, and every image holds the record's
Keys. Importing this module registers a strategy for :class:`~ddbstream.StreamRecord`, so
``st.from_type(StreamRecord)`` and ``st.from_type(StreamRecord[Invoice])`` work (``Invoice`` a
dataclass, TypedDict or pydantic model whose fields DynamoDB can store).

:func:`change_histories` draws a random consistent history of a table (with its final state)
and :func:`deliveries` the at-least-once delivery schedules Lambda could make of it, for
properties such as "totals are exact under any delivery".

Example:
    >>> from hypothesis import given
    >>> from ddbstream import deserialize
    >>> from ddbstream.testing.strategies import attribute_values
    >>> @given(attribute_values(max_depth=1))
    ... def test_decodes(av):
    ...     deserialize(av)
    >>> test_decodes()
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import typing
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from .._codec import EncodeError, deserialize, deserialize_image
from .._errors import UsageError
from .._records import StreamRecord
from .._types import EventName, StreamViewType
from ._events import EventBuilder, dynamodb_number_text, image_of, record_template
from ._histories import change_histories, deliveries

__all__ = [
    "ALL_TYPES",
    "attribute_values",
    "change_histories",
    "deliveries",
    "images",
    "items",
    "kinesis_events",
    "lambda_events",
    "pipes_events",
    "python_values",
    "stream_records",
]

#: Every AttributeValue type tag.
ALL_TYPES: tuple[str, ...] = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
_VIEW_TYPES = tuple(view.value for view in StreamViewType)
_EVENT_NAMES = tuple(name.value for name in EventName)
_KEY_TYPES = ("S", "N", "B")
_DEFAULT_KEY_SCHEMA: Mapping[str, str] = {"pk": "S"}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _extreme_number(
    sign: int, mantissa: int, adjusted: int
) -> str:  # an exact Decimal from its parts, so no context rounds it
    digits = tuple(int(c) for c in str(mantissa))
    return dynamodb_number_text(Decimal((sign, digits, adjusted - len(digits) + 1)))


def _numbers() -> SearchStrategy[str]:
    extreme = st.builds(
        _extreme_number,
        st.sampled_from((0, 1)),
        st.integers(1, 10**38 - 1),
        st.integers(-130, 125),
    )
    small = st.decimals(
        min_value=-(10**6), max_value=10**6, places=4, allow_nan=False, allow_infinity=False
    ).map(dynamodb_number_text)
    return st.one_of(st.integers(-(10**12), 10**12).map(str), small, extreme)


_NAMES = st.text(min_size=1, max_size=12)


def _scalars(types: Collection[str]) -> list[SearchStrategy[dict[str, Any]]]:
    out: list[SearchStrategy[dict[str, Any]]] = []
    table: dict[str, Callable[[], SearchStrategy[dict[str, Any]]]] = {
        "S": lambda: st.builds(lambda s: {"S": s}, st.text(max_size=20)),
        "N": lambda: st.builds(lambda n: {"N": n}, _numbers()),
        "B": lambda: st.builds(lambda b: {"B": _b64(b)}, st.binary(max_size=20)),
        "BOOL": lambda: st.builds(lambda b: {"BOOL": b}, st.booleans()),
        "NULL": lambda: st.just({"NULL": True}),
        "SS": lambda: st.builds(
            lambda v: {"SS": v},
            st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=4, unique=True),
        ),
        "NS": lambda: st.builds(
            lambda v: {"NS": v}, st.lists(_numbers(), min_size=1, max_size=4, unique=True)
        ),
        "BS": lambda: st.builds(
            lambda v: {"BS": [_b64(b) for b in v]},
            st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=4, unique=True),
        ),
    }
    for tag in ALL_TYPES:
        if tag in types and tag in table:
            out.append(table[tag]())
    return out


def _check(max_depth: int, types: Collection[str]) -> frozenset[str]:
    chosen = frozenset(types)
    unknown = chosen - set(ALL_TYPES)
    if not chosen or unknown:
        raise UsageError(f"types={sorted(chosen)!r} must be a non-empty subset of {ALL_TYPES}")
    if max_depth == 0 and chosen <= {"M", "L"}:
        raise UsageError(f"types={sorted(chosen)!r} with max_depth=0 leaves nothing to draw")
    if not 0 <= max_depth <= 31:
        raise UsageError(
            f"{max_depth=} must be between 0 and 31 (DynamoDB nests at most 31 maps or lists)"
        )
    return chosen


@functools.lru_cache(maxsize=64)
def _values(max_depth: int, types: frozenset[str]) -> SearchStrategy[dict[str, Any]]:
    strategy: SearchStrategy[dict[str, Any]] = st.one_of(*_scalars(types))
    for _ in range(max_depth):
        children = strategy
        containers: list[SearchStrategy[dict[str, Any]]] = []
        if "M" in types:
            containers.append(st.dictionaries(_NAMES, children, max_size=4).map(lambda d: {"M": d}))
        if "L" in types:
            containers.append(st.lists(children, max_size=4).map(lambda v: {"L": v}))
        strategy = st.one_of(*_scalars(types), *containers)
    return strategy


@st.composite
def attribute_values(
    draw: DrawFn, *, max_depth: int = 3, types: Collection[str] = ALL_TYPES
) -> dict[str, Any]:
    """AttributeValue descriptors in Lambda's JSON form, e.g. ``{"N": "12.5"}``.

    Args:
        max_depth: how many levels of ``M``/``L`` may nest (``{"M": {}}`` is one level; 0 means
            scalars and sets only).
        types: the type tags to draw from (a subset of :data:`ALL_TYPES`).
    """
    return draw(_values(max_depth, _check(max_depth, types)))


@st.composite
def python_values(draw: DrawFn, *, max_depth: int = 3, types: Collection[str] = ALL_TYPES) -> Any:
    """Decoded values (``str``, ``Decimal``, ``bytes``, ``bool``, ``None``, ``dict``, ``list``,
    ``set``): what :func:`ddbstream.deserialize` returns for :func:`attribute_values`."""
    return deserialize(draw(attribute_values(max_depth=max_depth, types=types)))


def _key_values(key_type: str) -> SearchStrategy[dict[str, Any]]:
    if key_type == "S":
        return st.builds(lambda s: {"S": s}, st.text(min_size=1, max_size=12))
    if key_type == "N":
        return st.builds(lambda n: {"N": n}, _numbers())
    return st.builds(lambda b: {"B": _b64(b)}, st.binary(min_size=1, max_size=12))


def _check_schema(key_schema: Mapping[str, str]) -> dict[str, str]:
    schema = dict(key_schema)
    if not 1 <= len(schema) <= 2 or any(t not in _KEY_TYPES for t in schema.values()):
        raise UsageError(
            f"key_schema={schema!r} must name one or two key attributes, each 'S', 'N' or 'B'"
        )
    return schema


@st.composite
def images(
    draw: DrawFn,
    *,
    key_schema: Mapping[str, str] = _DEFAULT_KEY_SCHEMA,
    max_attributes: int = 5,
    max_depth: int = 2,
    types: Collection[str] = ALL_TYPES,
) -> dict[str, dict[str, Any]]:
    """Item images (attribute name -> descriptor) holding the key attributes of ``key_schema``.

    Args:
        key_schema: key attribute names and their types (``"S"``, ``"N"`` or ``"B"``).
        max_attributes: the most non-key attributes an image has.
    """
    schema = _check_schema(key_schema)
    image = {name: draw(_key_values(kind)) for name, kind in schema.items()}
    others = draw(
        st.dictionaries(
            _NAMES.filter(lambda n: n not in schema),
            attribute_values(max_depth=max_depth, types=types),
            max_size=max_attributes,
        )
    )
    image.update(others)
    return image


@st.composite
def items(
    draw: DrawFn,
    *,
    key_schema: Mapping[str, str] = _DEFAULT_KEY_SCHEMA,
    max_attributes: int = 5,
    max_depth: int = 2,
    types: Collection[str] = ALL_TYPES,
) -> dict[str, Any]:
    """Items as plain Python values: :func:`images` decoded with
    :func:`ddbstream.deserialize_image`."""
    image = draw(
        images(
            key_schema=key_schema, max_attributes=max_attributes, max_depth=max_depth, types=types
        )
    )
    return deserialize_image(image)


def _sequence_numbers() -> SearchStrategy[str]:
    return st.builds(
        lambda first, rest: first + rest,
        st.sampled_from("123456789"),
        st.integers(20, 39).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)),
    )


_STREAMS = st.tuples(
    st.from_regex(r"[A-Za-z0-9_.-]{3,16}", fullmatch=True),
    st.sampled_from(("us-east-1", "eu-west-1", "ap-southeast-2")),
)


def _record(
    draw: DrawFn,
    *,
    view_type: str,
    event_names: Collection[str],
    schema: dict[str, str],
    builder: EventBuilder,
    max_depth: int,
) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(event_names)))
    keys = {n: draw(_key_values(t)) for n, t in schema.items()}
    shape = images(key_schema=schema, max_depth=max_depth).map(lambda i: {**i, **keys})
    new = draw(shape) if name != EventName.REMOVE else None
    old = draw(shape.filter(lambda i: i != new)) if name != EventName.INSERT else None
    ttl = name == EventName.REMOVE and draw(st.booleans())
    record = record_template(name, keys, new, old, view_type=view_type, ttl=ttl)
    record["eventID"] = draw(st.text("0123456789abcdef", min_size=32, max_size=32))
    record["dynamodb"]["SequenceNumber"] = draw(_sequence_numbers())
    record["dynamodb"]["ApproximateCreationDateTime"] = float(
        draw(st.integers(1_400_000_000, 2_100_000_000))
    )
    return builder.stamp(record)


def _check_names(event_names: Collection[str]) -> frozenset[str]:
    names = frozenset(event_names)
    if not names or not names <= set(_EVENT_NAMES):
        raise UsageError(
            f"event_names={sorted(names)!r} must be a non-empty subset of {_EVENT_NAMES}"
        )
    return names


def _view(draw: DrawFn, view_type: str | None) -> str:
    if view_type is None:
        return draw(st.sampled_from(_VIEW_TYPES))
    if str(view_type) not in _VIEW_TYPES:
        raise UsageError(f"{view_type=} is not one of {', '.join(_VIEW_TYPES)}")
    return str(view_type)


@st.composite
def stream_records(
    draw: DrawFn,
    *,
    view_type: str | None = None,
    event_names: Collection[str] = _EVENT_NAMES,
    key_schema: Mapping[str, str] = _DEFAULT_KEY_SCHEMA,
    max_depth: int = 2,
) -> dict[str, Any]:
    """Raw Lambda DynamoDB stream records (dicts), consistent with their view type.

    Sequence numbers have 21 to 40 digits, event ids 32 hex characters; REMOVE records are
    sometimes TTL deletions (with DynamoDB's service ``userIdentity``).

    Args:
        view_type: the stream view type; drawn when None.
        event_names: which of INSERT, MODIFY, REMOVE to draw.
        key_schema: key attribute names and types, as for :func:`images`.
    """
    names = _check_names(event_names)
    schema = _check_schema(key_schema)
    view = _view(draw, view_type)
    table, region = draw(_STREAMS)
    builder = EventBuilder(table, region=region)
    return _record(
        draw, view_type=view, event_names=names, schema=schema, builder=builder, max_depth=max_depth
    )


def _batch(
    draw: DrawFn,
    view_type: str | None,
    event_names: Collection[str],
    key_schema: Mapping[str, str],
    min_size: int,
    max_size: int,
) -> tuple[EventBuilder, list[dict[str, Any]]]:
    names = _check_names(event_names)
    schema = _check_schema(key_schema)
    if not 0 <= min_size <= max_size:
        raise UsageError(f"need 0 <= {min_size=} <= {max_size=}")
    view = _view(draw, view_type)
    table, region = draw(_STREAMS)
    builder = EventBuilder(table, region=region)
    count = draw(st.integers(min_size, max_size))
    records = [
        _record(
            draw, view_type=view, event_names=names, schema=schema, builder=builder, max_depth=1
        )
        for _ in range(count)
    ]
    # One batch comes from one shard: distinct ids, sequence numbers increasing in order.
    seqs = sorted({r["dynamodb"]["SequenceNumber"] for r in records}, key=int)
    while len(seqs) < len(records):
        seqs.append(str(int(seqs[-1]) + 1))
    seqs.sort(key=int)
    for index, (record, seq) in enumerate(zip(records, seqs, strict=True)):
        record["dynamodb"]["SequenceNumber"] = seq
        record["eventID"] = f"{index:04x}{record['eventID'][4:]}"
    return builder, records


@st.composite
def lambda_events(
    draw: DrawFn,
    *,
    view_type: str | None = None,
    event_names: Collection[str] = _EVENT_NAMES,
    key_schema: Mapping[str, str] = _DEFAULT_KEY_SCHEMA,
    min_size: int = 1,
    max_size: int = 10,
) -> dict[str, Any]:
    """Lambda DynamoDB stream events ``{"Records": [...]}`` of one stream: one table, one view
    type, distinct event ids, sequence numbers increasing in record order."""
    builder, records = _batch(draw, view_type, event_names, key_schema, min_size, max_size)
    return builder.lambda_event(*records)


@st.composite
def pipes_events(
    draw: DrawFn,
    *,
    view_type: str | None = None,
    event_names: Collection[str] = _EVENT_NAMES,
    key_schema: Mapping[str, str] = _DEFAULT_KEY_SCHEMA,
    min_size: int = 1,
    max_size: int = 10,
) -> list[dict[str, Any]]:
    """EventBridge Pipes events: bare arrays of records, as :func:`lambda_events` draws them."""
    builder, records = _batch(draw, view_type, event_names, key_schema, min_size, max_size)
    return builder.pipes_event(*records)


@st.composite
def kinesis_events(
    draw: DrawFn,
    *,
    event_names: Collection[str] = _EVENT_NAMES,
    key_schema: Mapping[str, str] = _DEFAULT_KEY_SCHEMA,
    min_size: int = 1,
    max_size: int = 10,
    precision: str | None = None,
) -> dict[str, Any]:
    """Lambda events of a Kinesis Data Streams for DynamoDB source (KDS always writes both
    images); ``precision`` (``"MILLISECOND"``/``"MICROSECOND"``) is drawn when None."""
    builder, records = _batch(
        draw, StreamViewType.NEW_AND_OLD_IMAGES.value, event_names, key_schema, min_size, max_size
    )
    chosen = precision or draw(st.sampled_from(("MILLISECOND", "MICROSECOND")))
    return builder.kinesis_event(*records, precision=chosen)  # type: ignore[arg-type]


# -- st.from_type(StreamRecord[...]) ----------------------------------------------------------


def _as_dict(value: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dict(dump())
    return dict(value)


def _storable(value: Any) -> dict[str, Any] | None:
    try:
        return image_of(_as_dict(value))
    except (EncodeError, TypeError, ValueError):
        return None


def _keyable(image: dict[str, Any] | None) -> bool:
    """An image whose first attribute can be a key: a non-empty S or B, or an N."""
    if not image:
        return False
    ((tag, value),) = next(iter(image.values())).items()
    return tag == "N" or (tag in ("S", "B") and bool(value))


@st.composite
def _model_records(draw: DrawFn, model: Any) -> StreamRecord[Any]:
    image_of = st.from_type(model).map(_storable).filter(_keyable)
    name = draw(st.sampled_from(_EVENT_NAMES))
    new = draw(image_of) if name != EventName.REMOVE else None
    old = draw(image_of) if name != EventName.INSERT else None
    first = next(iter(new or old or {}))
    keys = {first: (new or old or {})[first]}
    if new is not None and old is not None:
        old = {**old, first: keys[first]}
    view_type = StreamViewType.NEW_AND_OLD_IMAGES.value
    record = record_template(name, keys, new, old, view_type=view_type)
    return StreamRecord(EventBuilder().stamp(record), model=model)


def _stream_record_strategy(thing: Any) -> SearchStrategy[StreamRecord[Any]]:
    args = typing.get_args(thing)
    model = args[0] if args else None
    if model is None or model is Any or typing.get_origin(model) in (Mapping, dict):
        return stream_records().map(StreamRecord)
    return _model_records(model)


st.register_type_strategy(StreamRecord, _stream_record_strategy)
