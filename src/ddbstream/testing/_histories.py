"""Random consistent histories of a table, and the at-least-once deliveries Lambda makes of them.

Property tests of stream consumers (aggregates above all) need two things: a sequence of
changes whose end state is known, and the messy ways Lambda can deliver it. A
:class:`ChangeHistory` is the first: the stream records a table would write for random puts and
deletes over a small key space, plus the table's final state. :func:`deliveries` is the second:
a :class:`DeliverySchedule` of batches with retries, replays, partial failures and crashes that
still delivers every record, as Lambda's event source mapping guarantees. A correct idempotent
consumer, driven through any schedule, ends with the state it would compute from
``final_table``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from .._codec import deserialize_image
from .._errors import UsageError
from .._types import EventName, StreamViewType
from ._events import EventBuilder, image_of, record_template, size_bytes_of

__all__ = ["ChangeHistory", "Delivery", "DeliverySchedule", "change_histories", "deliveries"]

ItemKey = tuple[tuple[str, str], ...]
_VIEW_TYPES = tuple(view.value for view in StreamViewType)
_BOTH = StreamViewType.NEW_AND_OLD_IMAGES.value
_DEFAULT_KEYS = st.sampled_from([{"pk": "a"}, {"pk": "b"}, {"pk": "c"}])
_DEFAULT_ATTRIBUTES = st.fixed_dictionaries(
    {}, optional={"n": st.integers(-3, 3), "tag": st.sampled_from(["x", "y"])}
)


def item_key(keys: Mapping[str, Any]) -> ItemKey:
    """The identity :attr:`ddbstream.StreamRecord.item_key` gives the item with these Keys
    (descriptors)."""
    return tuple(
        sorted((n, json.dumps(av, sort_keys=True, separators=(",", ":"))) for n, av in keys.items())
    )


def _for_view(record: Mapping[str, Any], view_type: str) -> dict[str, Any]:
    ddb = dict(record["dynamodb"])
    if view_type in (StreamViewType.KEYS_ONLY, StreamViewType.OLD_IMAGE):
        ddb.pop("NewImage", None)
    if view_type in (StreamViewType.KEYS_ONLY, StreamViewType.NEW_IMAGE):
        ddb.pop("OldImage", None)
    ddb["SizeBytes"] = size_bytes_of(ddb["Keys"], ddb.get("NewImage"), ddb.get("OldImage"))
    ddb["StreamViewType"] = view_type
    return {**record, "dynamodb": ddb}


def _ids(records: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
    return tuple(r.get("eventID") for r in records)


@dataclasses.dataclass(frozen=True, slots=True)
class ChangeHistory:
    """Stream records of a random sequence of writes to one table, and the table they leave.

    Attributes:
        records: Lambda-shaped records in stream order, for ``view_type``: increasing
            ``SequenceNumber``, each item's changes in the order they happened, each MODIFY or
            REMOVE carrying as OldImage the item's previous NewImage.
        final_table: the table after every change: ``StreamRecord.item_key`` -> item (plain
            Python values, numbers as DynamoDB stores them).
        view_type: the stream view type of ``records``.
        complete_records: the same records with every image (NEW_AND_OLD_IMAGES), from which
            :meth:`records_for` derives the other view types; not part of equality.

    Example:
        >>> from hypothesis import given
        >>> from ddbstream import StreamRecord
        >>> from ddbstream.testing.strategies import change_histories
        >>> @given(change_histories(max_changes=8))
        ... def test_replay_gives_final_table(history):
        ...     table = {}
        ...     for record in map(StreamRecord, history.records):
        ...         if record.new_image is None:
        ...             del table[record.item_key]
        ...         else:
        ...             table[record.item_key] = record.new_image.to_dict()
        ...     assert table == history.final_table
        >>> test_replay_gives_final_table()
    """

    records: tuple[Mapping[str, Any], ...]
    final_table: Mapping[ItemKey, Mapping[str, Any]]
    view_type: str = "NEW_AND_OLD_IMAGES"
    complete_records: tuple[Mapping[str, Any], ...] = dataclasses.field(
        default=(), repr=False, compare=False
    )

    def records_for(self, view_type: str) -> tuple[dict[str, Any], ...]:
        """The same history as a stream of another view type would hold it."""
        if view_type not in _VIEW_TYPES:
            raise UsageError(f"{view_type=} is not one of {', '.join(_VIEW_TYPES)}")
        return tuple(_for_view(r, view_type) for r in self.complete_records or self.records)

    def __hash__(self) -> int:
        return hash((_ids(self.records), self.view_type))


def _draw_item(
    draw: DrawFn, key: dict[str, Any], attributes: SearchStrategy[Mapping[str, Any]]
) -> dict[str, Any]:
    return {**draw(attributes), **key}


@st.composite
def change_histories(
    draw: DrawFn,
    *,
    keys: SearchStrategy[Mapping[str, Any]] = _DEFAULT_KEYS,
    attributes: SearchStrategy[Mapping[str, Any]] = _DEFAULT_ATTRIBUTES,
    view_type: str = "NEW_AND_OLD_IMAGES",
    min_changes: int = 0,
    max_changes: int = 20,
    ttl: bool = True,
    table_name: str = "Table",
) -> ChangeHistory:
    """Random consistent histories of puts and deletes over a small key space.

    Each step draws a key from ``keys`` and either puts an item (the key plus attributes drawn
    from ``attributes``) or deletes that key. As in DynamoDB, a put of an absent key writes an
    INSERT, a put that changes an item a MODIFY, a delete of a present item a REMOVE (sometimes
    a TTL deletion when ``ttl``); a put that changes nothing and a delete of a missing key write
    no record. An item can be removed and inserted again.

    Args:
        keys: key values, e.g. ``st.sampled_from([{"pk": "a"}, {"pk": "b"}])``; a small space
            makes items change many times.
        attributes: the non-key attributes of a put (plain Python values).
        view_type: the view type of ``.records``; ``.records_for()`` gives the others.
        min_changes: the least number of writes (records can be fewer).
        max_changes: the largest number of writes.
        ttl: whether some deletions are TTL expiries.
        table_name: used in ``eventSourceARN``.
    """
    if view_type not in _VIEW_TYPES:
        raise UsageError(f"{view_type=} is not one of {', '.join(_VIEW_TYPES)}")
    if not 0 <= min_changes <= max_changes:
        raise UsageError(f"need 0 <= {min_changes=} <= {max_changes=}")
    builder = EventBuilder(table_name)
    table: dict[ItemKey, dict[str, Any]] = {}  # identity -> image (descriptors)
    complete: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(min_changes, max_changes))):
        key = dict(draw(keys))
        key_image = image_of(key)
        ident = item_key(key_image)
        current = table.get(ident)
        if draw(st.booleans()) or (current is None and draw(st.booleans())):
            new = image_of(_draw_item(draw, key, attributes))
            if new == current:
                continue  # an unchanged put writes no stream record
            name = EventName.INSERT if current is None else EventName.MODIFY
            template = record_template(name.value, key_image, new, current, view_type=_BOTH)
            table[ident] = new
        elif current is not None:
            expired = ttl and draw(st.booleans())
            template = record_template(
                EventName.REMOVE.value, key_image, None, current, view_type=_BOTH, ttl=expired
            )
            del table[ident]
        else:
            continue  # deleting a missing key writes no stream record
        complete.append(builder.stamp(template))
    final = MappingProxyType({k: deserialize_image(v) for k, v in table.items()})
    records = tuple(_for_view(r, view_type) for r in complete)
    return ChangeHistory(records, final, view_type, tuple(complete))


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    """One Lambda invocation of a :class:`DeliverySchedule`, and the fault to inject into it.

    Attributes:
        batch: the records of the invocation, in order (a contiguous run of its lane).
        fail_at: the handler must report ``batch[fail_at]`` as the first failed record (a
            partial batch response, or an exception raised there by a batch processor): the
            records before it are processed and acknowledged, it and the rest are retried.
        crash_after_writes: the invocation dies once this many of its writes have landed (the
            test's sink raises then, which also models a write whose response was lost). Nothing
            of the invocation is acknowledged. With fewer writes the invocation succeeds; the
            schedule stays valid either way.
        lane: the concurrent batch stream it belongs to (always 0 without parallelization).
    """

    batch: tuple[Mapping[str, Any], ...]
    fail_at: int | None = None
    crash_after_writes: int | None = None
    lane: int = 0

    @property
    def event(self) -> dict[str, Any]:
        """The Lambda event of this invocation: ``{"Records": [...]}``."""
        return {"Records": list(self.batch)}

    def __hash__(self) -> int:
        return hash((_ids(self.batch), self.fail_at, self.crash_after_writes, self.lane))


@dataclasses.dataclass(frozen=True, slots=True)
class DeliverySchedule:
    """The invocations Lambda makes to deliver a history, in the order they happen."""

    deliveries: tuple[Delivery, ...]
    parallelization_factor: int = 1

    def __iter__(self) -> Iterator[Delivery]:
        return iter(self.deliveries)

    def __len__(self) -> int:
        return len(self.deliveries)


def _lanes(
    draw: DrawFn, records: Sequence[Mapping[str, Any]], factor: int
) -> list[list[Mapping[str, Any]]]:
    lane_of: dict[ItemKey, int] = {}
    lanes: list[list[Mapping[str, Any]]] = [[] for _ in range(factor)]
    for record in records:
        ident = item_key(record["dynamodb"]["Keys"])
        if ident not in lane_of:
            lane_of[ident] = draw(st.integers(0, factor - 1))
        lanes[lane_of[ident]].append(record)
    return lanes


@st.composite
def deliveries(
    draw: DrawFn,
    records: Sequence[Mapping[str, Any]],
    *,
    max_batch_size: int = 10,
    parallelization_factor: int = 1,
    max_faults: int = 4,
    bisect_on_error: bool = False,
) -> DeliverySchedule:
    """Schedules of Lambda invocations that deliver ``records`` at least once.

    The model is Lambda's event source mapping on one shard. Records are split into lanes: one
    lane with ``parallelization_factor=1``, otherwise each item's records go to one of
    ``parallelization_factor`` lanes, so order holds per item only. Each lane has a checkpoint,
    the index of its first unacknowledged record. A delivery sends a contiguous run of its lane
    starting at the checkpoint, at most ``max_batch_size`` long, and then:

    * succeeds: the checkpoint moves past the batch;
    * fails at ``fail_at`` (partial batch response): the checkpoint moves to that record;
    * crashes after ``crash_after_writes`` writes (function error): the checkpoint stays; with
      ``bisect_on_error`` the next batch of the lane is at most half as long;
    * succeeds but loses its checkpoint: the checkpoint stays, so the batch comes again.

    A delivery may also start at an earlier checkpoint of its lane (a replay of records already
    acknowledged). At most ``max_faults`` deliveries are faulty or replays; after that every
    delivery succeeds, so every record is finally part of a successful delivery. Deliveries of
    different lanes interleave arbitrarily. Hence: every batch is in stream order and holds each
    item's records in order; records can arrive more than once and, across lanes, out of
    stream order, exactly as Lambda allows.

    Args:
        records: the records in stream order (e.g. ``history.records``).
        max_batch_size: Lambda's ``BatchSize``.
        parallelization_factor: Lambda's ``ParallelizationFactor`` (1 to 10).
        max_faults: the most faulty or replayed deliveries.
        bisect_on_error: Lambda's ``BisectBatchOnFunctionError``.
    """
    if not 1 <= parallelization_factor <= 10:
        raise UsageError(f"{parallelization_factor=} must be between 1 and 10")
    if max_batch_size < 1 or max_faults < 0:
        raise UsageError(f"need {max_batch_size=} >= 1 and {max_faults=} >= 0")
    lanes = _lanes(draw, records, parallelization_factor)
    checkpoints = [[0] for _ in lanes]  # each lane's checkpoints so far, the last is current
    limits = [max_batch_size for _ in lanes]
    faults = max_faults
    out: list[Delivery] = []
    while True:
        open_lanes = [i for i, lane in enumerate(lanes) if checkpoints[i][-1] < len(lane)]
        if not open_lanes:
            break
        lane_no = draw(st.sampled_from(open_lanes))
        lane, marks = lanes[lane_no], checkpoints[lane_no]
        start = marks[-1]
        kind = draw(st.sampled_from(("ok", "fail", "crash", "lost", "replay"))) if faults else "ok"
        if kind == "replay":
            start = draw(st.sampled_from(marks))
        size = draw(st.integers(1, limits[lane_no]))
        batch = tuple(lane[start : start + size])
        limits[lane_no] = max_batch_size
        delivery = Delivery(batch, lane=lane_no)
        faults -= kind != "ok"
        if kind == "fail":
            fail_at = draw(st.integers(0, len(batch) - 1))
            delivery = Delivery(batch, fail_at=fail_at, lane=lane_no)
            marks.append(max(marks[-1], start + fail_at))
        elif kind == "crash":
            delivery = Delivery(batch, crash_after_writes=draw(st.integers(0, 3)), lane=lane_no)
            if bisect_on_error:
                limits[lane_no] = max(1, len(batch) // 2)
        elif kind in ("ok", "replay"):
            marks.append(max(marks[-1], start + len(batch)))
        out.append(delivery)
    return DeliverySchedule(tuple(out), parallelization_factor)
