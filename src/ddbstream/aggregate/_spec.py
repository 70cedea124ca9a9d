"""What to count, as a frozen value: ``group_by``, ``measures``, ``where``, ``model``.

The spec is the algebra in plain sight (bytewax style) and knows nothing of sinks or I/O:
:meth:`AggregateSpec.builder` makes an empty state, :meth:`AggregateSpec.folder` folds one record
into a state, :meth:`AggregateSpec.merger` merges two states, and :meth:`AggregateSpec.effect`
is what one record adds to which group:

* INSERT adds f(new) to group(new);
* MODIFY adds f(new) to group(new) and retracts f(old) from group(old) (two groups when the
  change moved the item);
* REMOVE retracts f(old).

An image that fails ``where`` contributes nothing, so entering or leaving ``where`` is an insert
or a removal. What a measure does with a retraction depends on its algebra (see ``_measures``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, Protocol

from typing_extensions import TypeVar

from .._errors import AggregationError, DataError, UsageError
from .._image import Image
from .._records import EventName, StreamRecord
from ._groups import check_group
from ._measures import Additive, Measure, Sequenced

__all__ = ["AggregateSpec", "Condition", "Deltas", "Effect", "GroupBy", "Where"]

T = TypeVar("T", default=Image)

#: A group's delta: measure name -> state delta.
GroupDelta = dict[str, Any]
#: Deltas of many groups: group key -> measure name -> state delta.
Deltas = dict[Hashable, GroupDelta]


class Condition(Protocol):
    """A filters-DSL expression (anything with ``matches(record)``), used as ``where``."""

    def matches(self, record: object) -> bool: ...


#: How records are grouped: an attribute name, or a function of the image (or model) that
#: returns the group (``None``: in no group).
GroupBy = str | Callable[[T], Hashable | None]
#: Which images count: a predicate on the image (or model), or a filters-DSL expression.
Where = Callable[[T], bool] | Condition

_VIEW_HINT = {
    EventName.INSERT: ("NewImage", "NEW_IMAGE or NEW_AND_OLD_IMAGES"),
    EventName.REMOVE: ("OldImage", "OLD_IMAGE or NEW_AND_OLD_IMAGES"),
}
_SHOWN = 12


@dataclass(frozen=True, slots=True)
class Effect:
    """What one record does: its non-zero deltas per group, and whether ``where`` or
    ``group_by`` left it out entirely (``filtered``: no image of it is in any group)."""

    deltas: Mapping[Hashable, Mapping[str, Any]]
    filtered: bool = False


def _name(fn: object) -> str:
    if isinstance(fn, str):
        return repr(fn)
    return str(getattr(fn, "__qualname__", None) or repr(fn))


def _names(image: object) -> str:
    names = sorted(str(k) for k in image) if isinstance(image, Mapping) else []
    shown = ", ".join(names[:_SHOWN])
    return (
        shown + (f", ... ({len(names) - _SHOWN} more)" if len(names) > _SHOWN else "")
    ) or "none"


class AggregateSpec(Generic[T]):
    """What to aggregate: ``group_by``, ``measures``, ``where`` and ``model``, frozen.

    Build one through :class:`~ddbstream.aggregate.Aggregator` (which binds it to a sink), or
    directly to use the algebra alone.

    Example:
        >>> from ddbstream import StreamEvent
        >>> from ddbstream.aggregate import AggregateSpec, Sum
        >>> from ddbstream.testing import insert, lambda_event, modify
        >>> spec = AggregateSpec("InvoiceNumber", {"Total": Sum("Amount")})
        >>> old = {"InvoiceNumber": "ABC", "TransactionId": "1", "Amount": 100}
        >>> event = lambda_event(insert(old), modify(old, {**old, "Amount": 150}))
        >>> state = spec.builder()
        >>> for record in StreamEvent.from_lambda(event):
        ...     state = spec.folder(state, record)
        >>> state
        {'ABC': {'Total': Decimal('150')}}
    """

    __slots__ = ("group_by", "measures", "model", "where")

    group_by: GroupBy[T]
    measures: Mapping[str, Measure[T, Any]]
    where: Where[T] | None
    model: type[T] | None

    def __init__(
        self,
        group_by: GroupBy[T],
        measures: Mapping[str, Measure[T, Any]],
        *,
        where: Where[T] | None = None,
        model: type[T] | None = None,
    ) -> None:
        if not (isinstance(group_by, str) and group_by) and not callable(group_by):
            raise UsageError(
                f"group_by must be an attribute name or a function of the image, got {group_by!r}"
            )
        if not isinstance(measures, Mapping) or not measures:
            raise UsageError(f"measures must be a non-empty mapping, got {measures!r}")
        for name, measure in measures.items():
            if not isinstance(name, str) or not name or name.startswith("_"):
                raise UsageError(
                    f"measure names must be non-empty strings not starting with '_' (names "
                    f"starting with '_' are ddbstream's bookkeeping), got {name!r}"
                )
            if getattr(measure, "algebra", None) not in ("group", "monoid", "register"):
                raise UsageError(
                    f'measure {name!r} = {measure!r} must state its algebra ("group", "monoid" '
                    'or "register")'
                )
        if (
            where is not None
            and not callable(where)
            and not callable(getattr(where, "matches", None))
        ):
            raise UsageError(
                f"where must be a predicate or a filters-DSL expression, got {where!r}"
            )
        object.__setattr__(self, "group_by", group_by)
        object.__setattr__(self, "measures", MappingProxyType(dict(measures)))
        object.__setattr__(self, "where", where)
        object.__setattr__(self, "model", model)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"AggregateSpec is frozen: cannot set {name}")

    def _key(self) -> tuple[object, ...]:
        return (self.group_by, tuple(self.measures.items()), self.where, self.model)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AggregateSpec):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"AggregateSpec({', '.join(self.repr_parts())})"

    def repr_parts(self) -> list[str]:
        """The constructor arguments that differ from the defaults, as ``name=value`` text."""
        parts = [f"group_by={_name(self.group_by)}", f"measures={dict(self.measures)!r}"]
        if self.where is not None:
            shown = self.where if hasattr(self.where, "matches") else _name(self.where)
            parts.append(f"where={shown}")
        if self.model is not None:
            parts.append(f"model={self.model.__name__}")
        return parts

    # -- what is stored ---------------------------------------------------------------------

    def columns(self) -> dict[str, tuple[str, ...]]:
        """Measure name -> the attributes a sink stores it in (``Average`` uses two)."""
        return {
            name: tuple(m.columns(name)) if isinstance(m, Additive) else (name,)
            for name, m in self.measures.items()
        }

    def fingerprint(self) -> str:
        """A short digest of the measures (names and definitions): equal for aggregators that
        compute the same attributes the same way, in any process."""
        text = json.dumps(sorted((n, repr(m)) for n, m in self.measures.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- the algebra ------------------------------------------------------------------------

    def builder(self) -> Deltas:
        """An empty state: group -> measure name -> state."""
        return {}

    def folder(self, state: Deltas, record: StreamRecord[Any]) -> Deltas:
        """Fold one record's effect into ``state`` (a new dict; no de-duplication)."""
        return self.merger(state, self.effect(record).deltas)

    def merger(
        self,
        left: Mapping[Hashable, Mapping[str, Any]],
        right: Mapping[Hashable, Mapping[str, Any]],
    ) -> Deltas:
        """Merge two states (associative and commutative); groups left at zero are dropped."""
        return self.merge((left, right))

    def merge(self, parts: Iterable[Mapping[Hashable, Mapping[str, Any]]]) -> Deltas:
        """Coalesce many states into one (order-independent: ``combine`` commutes)."""
        out: Deltas = {}
        for deltas in parts:
            for group, values in deltas.items():
                for name, state in values.items():
                    self._add(out, group, name, state)
        return self._nonzero(out)

    def deltas(self, records: Iterable[StreamRecord[Any]]) -> Deltas:
        """The coalesced effect of ``records`` (no de-duplication)."""
        return self.merge(self.effect(r).deltas for r in records)

    def results(
        self, state: Mapping[Hashable, Mapping[str, Any]]
    ) -> dict[Hashable, dict[str, Any]]:
        """User-facing values of a state (averages divided out, Latest's plain value)."""
        return {
            group: {name: self.measures[name].result(v) for name, v in values.items()}
            for group, values in state.items()
        }

    def _add(self, deltas: Deltas, group: Hashable, name: str, state: object) -> None:
        slot = deltas.setdefault(group, {})
        slot[name] = self.measures[name].combine(slot[name], state) if name in slot else state

    def _nonzero(self, deltas: Deltas) -> Deltas:
        out: Deltas = {}
        for group, values in deltas.items():
            kept = {n: s for n, s in values.items() if s != self.measures[n].zero()}
            if kept:
                out[group] = kept
        return out

    # -- one record -------------------------------------------------------------------------

    def effect(self, record: StreamRecord[Any]) -> Effect:
        """What ``record`` adds to which group.

        Raises:
            AggregationError: an image the record needs is missing for the stream view type, an
                attribute a measure or ``group_by`` reads is absent, a value has the wrong type,
                a group is not a valid key, an append-only measure would need a retraction, a
                result does not fit a DynamoDB number, or ``group_by``/``where``/a measure
                raised (the original exception is the ``__cause__``).
            ImageValidationError: with ``model=``, an image does not validate.
        """
        try:
            return self._effect(record)
        except DataError as exc:
            raise exc.in_record(
                event_id=_event_id(record), sequence_number=record.sequence_number
            ) from (exc.__cause__ or None)

    def _effect(self, record: StreamRecord[Any]) -> Effect:
        _check_images(record)
        name = record.event_name
        bound = record.bind(self.model) if self.model is not None else record
        sequence = int(record.sequence_number)
        new = old = None
        if name is not EventName.REMOVE:
            new = self._contribution(record, bound.new, record.new_image, sequence, "NewImage")
        if name is not EventName.INSERT:
            old = self._contribution(record, bound.old, record.old_image, sequence, "OldImage")
        deltas: Deltas = {}
        for mname, measure in self.measures.items():
            n = (new[0], new[1][mname]) if new and mname in new[1] else None
            o = (old[0], old[1][mname]) if old and mname in old[1] else None
            if n is not None and o is not None and n == o:
                continue  # same group, same value: nothing changes
            if measure.algebra == "group":
                if n is not None:
                    self._add(deltas, n[0], mname, n[1])
                if o is not None:
                    self._add(deltas, o[0], mname, measure.inverse(o[1]))
            elif (o is None or self._absorbs(mname, measure, record, o, n)) and n is not None:
                self._add(deltas, n[0], mname, n[1])
        return Effect(self._nonzero(deltas), filtered=new is None and old is None)

    def _contribution(
        self,
        record: StreamRecord[Any],
        value: Any,
        image: Image | None,
        sequence: int,
        where_from: str,
    ) -> tuple[Hashable, dict[str, Any]] | None:
        if value is None or image is None:
            return None
        try:
            if not self._passes(record, value, image):
                return None
            group = self._group_of(value)
            if group is None:
                return None
            problem = check_group(group)
            if problem is not None:
                raise AggregationError(f"group_by returned {problem}: {str(group)[:80]!r}")
            lifts: dict[str, Any] = {}
            for mname, measure in self.measures.items():
                lift = (
                    measure.lift_at(value, sequence)
                    if isinstance(measure, Sequenced)
                    else measure.lift(value)
                )
                if lift is not None:
                    lifts[mname] = lift
        except DataError as exc:
            raise exc.in_record(event_id=None, sequence_number=None, prefix=(where_from,)) from (
                exc.__cause__ or None
            )
        except KeyError as exc:
            missing = exc.args[0] if exc.args else None
            raise AggregationError(
                f"group_by, where or a measure read attribute {missing!r}, which the "
                f"{where_from} lacks (it has: {_names(value)})",
                path=(where_from, missing) if isinstance(missing, str) else (where_from,),
            ) from exc
        except Exception as exc:
            raise AggregationError(
                f"group_by, where or a measure raised on the {where_from}: "
                f"{type(exc).__name__}: {str(exc)[:200]}",
                path=(where_from,),
            ) from exc
        return group, lifts

    def _passes(self, record: StreamRecord[Any], value: Any, image: Image) -> bool:
        where = self.where
        if where is None:
            return True
        if not callable(where):
            # A filters-DSL expression speaks about records: an item counts when a record that
            # inserts it (its Keys, this image as NewImage) would match.
            view = {
                "eventName": "INSERT",
                "dynamodb": {"Keys": record.keys.raw, "NewImage": image.raw},
            }
            return bool(where.matches(view))
        return bool(where(value))

    def _group_of(self, value: Any) -> Hashable | None:
        group_by = self.group_by
        if not isinstance(group_by, str):
            return group_by(value)
        group = (
            value.get(group_by) if isinstance(value, Mapping) else getattr(value, group_by, None)
        )
        if group is None:
            raise AggregationError(
                f"group_by reads {group_by!r}, which this image lacks (it has: {_names(value)}); "
                "give a function returning None to leave such items out",
                path=(group_by,),
            )
        return group  # type: ignore[no-any-return]

    def _absorbs(
        self,
        name: str,
        measure: Measure[T, Any],
        record: StreamRecord[Any],
        old: tuple[Hashable, object],
        new: tuple[Hashable, object] | None,
    ) -> bool:
        """For a monoid or register: True when the new contribution may simply be added (a
        register ignores retractions; a monoid only accepts one that the new value absorbs)."""
        if measure.algebra == "register":
            return True
        if new is not None and old[0] == new[0] and measure.combine(old[1], new[1]) == new[1]:
            return True
        raise AggregationError(
            f"measure {name!r} = {measure!r} is append-only: this {record.event_name.value} "
            "retracts a value it has counted, which would need a recomputation"
        )


def _check_images(record: StreamRecord[Any]) -> None:
    name = record.event_name
    if name is EventName.MODIFY:
        if record.new_image is not None and record.old_image is not None:
            return
        field, views = (
            ("OldImage" if record.old_image is None else "NewImage"),
            "NEW_AND_OLD_IMAGES",
        )
    else:
        field, views = _VIEW_HINT[name]
        if (record.new_image if name is EventName.INSERT else record.old_image) is not None:
            return
    raise AggregationError(
        f"a {name.value} record without {field} cannot be aggregated exactly: enable the "
        f"{views} stream view type (this stream is {record.stream_view_type or 'unknown'})",
        path=("dynamodb", field),
    )


def _event_id(record: StreamRecord[Any]) -> str | None:
    value = record.lambda_record.get("eventID")
    return value if isinstance(value, str) else None
