"""From stream records to coalesced deltas: what each change adds to which group.

INSERT adds f(new) to group(new); MODIFY adds f(new) to group(new) and retracts f(old) from
group(old) (two groups when the change moved the item); REMOVE retracts f(old). An image that
fails ``where`` contributes nothing, so entering or leaving ``where`` is an insert or a removal.
Deltas of one item are then coalesced per group, and deltas of many items per group again
(:func:`merge_deltas`): one write per touched group, whatever the number of records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._errors import AggregationError, DDBStreamError
from .._records import EventName, StreamRecord

if TYPE_CHECKING:
    from ._spec import Aggregator

__all__ = ["Change", "Deltas", "ItemId", "change_of", "merge_deltas", "nonzero"]

#: A group's delta: measure name -> state delta.
GroupDelta = dict[str, Any]
#: Deltas of many groups: group key -> measure name -> state delta.
Deltas = dict[Any, GroupDelta]
#: A source item's identity: (table name or "", sorted Keys descriptors).
ItemId = tuple[str, tuple[tuple[str, str], ...]]

_VIEW_HINT = {
    EventName.INSERT: ("NewImage", "NEW_IMAGE or NEW_AND_OLD_IMAGES"),
    EventName.REMOVE: ("OldImage", "OLD_IMAGE or NEW_AND_OLD_IMAGES"),
}


@dataclass(frozen=True, slots=True)
class Change:
    """The effect of one record: its position, identity and (non-zero) deltas per group."""

    index: int
    identifier: str
    sequence: int
    item: ItemId
    deltas: Mapping[Any, Mapping[str, Any]]


def _missing_image(record: StreamRecord[Any]) -> AggregationError | None:
    name = record.event_name
    if name is EventName.MODIFY:
        if record.new_image is not None and record.old_image is not None:
            return None
        field, views = (
            ("OldImage" if record.old_image is None else "NewImage"),
            "NEW_AND_OLD_IMAGES",
        )
    else:
        field, views = _VIEW_HINT[name]
        image = record.new_image if name is EventName.INSERT else record.old_image
        if image is not None:
            return None
    return AggregationError(
        f"a {name.value} record without {field} cannot be aggregated exactly: enable the "
        f"{views} stream view type (this stream is {record.stream_view_type or 'unknown'})",
        path=("dynamodb", field),
        event_id=record.raw.get("eventID") if isinstance(record.raw, Mapping) else None,
        sequence_number=record.sequence_number,
    )


def _passes(where: Any, value: Any, record: StreamRecord[Any], image_raw: Any) -> bool:
    if where is None:
        return True
    matches = getattr(where, "matches", None)
    if matches is not None and not isinstance(where, type):
        # A filters-DSL expression: evaluate it on the image as the NewImage of an INSERT.
        probe = StreamRecord(
            {
                "eventID": "where",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": dict(record.keys.raw),
                    "NewImage": dict(image_raw.raw),
                    "SequenceNumber": record.sequence_number,
                    "StreamViewType": "NEW_IMAGE",
                },
            }
        )
        return bool(matches(probe))
    return bool(where(value))


def _contribution(
    spec: Aggregator, record: StreamRecord[Any], value: Any, image_raw: Any, sequence: int
) -> tuple[Any, dict[str, Any]] | None:
    if value is None or not _passes(spec.where, value, record, image_raw):
        return None
    group = spec.group_by(value)
    if group is None:
        return None
    lifts: dict[str, Any] = {}
    for name, measure in spec.measures.items():
        lift = (
            measure.lift_at(value, sequence)
            if getattr(measure, "needs_sequence", False)
            else measure.lift(value)
        )
        if lift is not None:
            lifts[name] = lift
    return group, lifts


def _add(deltas: Deltas, group: Any, name: str, measure: Any, state: Any) -> None:
    slot = deltas.setdefault(group, {})
    slot[name] = measure.combine(slot[name], state) if name in slot else state


def nonzero(spec: Aggregator, deltas: Deltas) -> Deltas:
    """Drop measures whose delta is their zero, and groups left empty."""
    out: Deltas = {}
    for group, values in deltas.items():
        kept = {
            name: state for name, state in values.items() if state != spec.measures[name].zero()
        }
        if kept:
            out[group] = kept
    return out


def _retract(
    name: str,
    measure: Any,
    record: StreamRecord[Any],
    old: tuple[Any, Any] | None,
    new: tuple[Any, Any] | None,
) -> bool:
    """For a monoid measure: True when the new lift may simply be added (the retraction of the
    old one is absorbed or ignored). Raises when a recomputation would be needed."""
    if getattr(measure, "retraction", "error") == "ignore":
        return True
    old_group, old_lift = old if old is not None else (None, None)
    new_group, new_lift = new if new is not None else (None, None)
    if (
        new_lift is not None
        and old_group == new_group
        and measure.combine(old_lift, new_lift) == new_lift
    ):
        return True
    raise AggregationError(
        f"measure {name!r} = {measure!r} is append-only: this {record.event_name.value} "
        "retracts a value it has counted, which would need a recomputation",
        event_id=record.raw.get("eventID") if isinstance(record.raw, Mapping) else None,
        sequence_number=record.sequence_number,
    )


def _record_deltas(spec: Aggregator, record: StreamRecord[Any]) -> Deltas:
    missing = _missing_image(record)
    if missing is not None:
        raise missing
    name = record.event_name
    bound = record.bind(spec.model) if spec.model is not None else record
    sequence = int(record.sequence_number)
    new_c = old_c = None
    if name is not EventName.REMOVE:
        new_c = _contribution(spec, record, bound.new, record.new_image, sequence)
    if name is not EventName.INSERT:
        old_c = _contribution(spec, record, bound.old, record.old_image, sequence)
    deltas: Deltas = {}
    for mname, measure in spec.measures.items():
        new = (new_c[0], new_c[1][mname]) if new_c and mname in new_c[1] else None
        old = (old_c[0], old_c[1][mname]) if old_c and mname in old_c[1] else None
        if new is not None and old is not None and new == old:
            continue  # same group, same value: nothing changes
        if measure.algebra == "group":
            if new is not None:
                _add(deltas, new[0], mname, measure, new[1])
            if old is not None:
                _add(deltas, old[0], mname, measure, measure.inverse(old[1]))
        elif (old is None or _retract(mname, measure, record, old, new)) and new is not None:
            _add(deltas, new[0], mname, measure, new[1])
    return nonzero(spec, deltas)


def change_of(
    spec: Aggregator, record: StreamRecord[Any], index: int, *, item: ItemId | None = None
) -> Change:
    """The effect of one record under ``spec`` (``item``: its identity, if already known).

    Raises:
        AggregationError: a missing image for the view type, a non-numeric value, a retraction
            on an append-only measure, or a delta beyond DynamoDB's 38 digits.
    """
    try:
        deltas = _record_deltas(spec, record)
    except AggregationError as exc:
        raise exc.in_record(
            event_id=_event_id(record), sequence_number=record.sequence_number
        ) from exc.__cause__
    except DDBStreamError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise AggregationError(
            f"group_by, where or a measure failed on this record: {type(exc).__name__}: {exc}",
            event_id=_event_id(record),
            sequence_number=record.sequence_number,
        ) from exc
    return Change(
        index=index,
        identifier=record.item_identifier,
        sequence=int(record.sequence_number),
        item=(record.table_name or "", record.item_key) if item is None else item,
        deltas=deltas,
    )


def _event_id(record: StreamRecord[Any]) -> str | None:
    value = record.lambda_record.get("eventID")
    return value if isinstance(value, str) else None


def merge_deltas(spec: Aggregator, parts: Iterable[Mapping[Any, Mapping[str, Any]]]) -> Deltas:
    """Coalesce many deltas into one per group (order-independent: ``combine`` commutes)."""
    out: Deltas = {}
    for deltas in parts:
        for group, values in deltas.items():
            for name, state in values.items():
                _add(out, group, name, spec.measures[name], state)
    return nonzero(spec, out)


def fold_into(spec: Aggregator, state: Deltas, delta: Mapping[Any, Mapping[str, Any]]) -> Deltas:
    """Apply ``delta`` to a group state (a new dict; groups whose state is zero are dropped)."""
    return merge_deltas(spec, (state, delta))


Folder = Callable[[Deltas, StreamRecord[Any]], Deltas]
