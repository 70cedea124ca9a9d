"""Planning writes: per-item units and their packing into transactions of bounded size.

Every source item with an effect in the batch becomes a *unit*: its records (in sequence order),
their coalesced deltas, and -- under the exactly-once strategy -- one watermark action. A
transaction holds whole units, so an item's deltas and its watermark commit or fail together,
and one write per touched group per transaction (deltas of all its units coalesced).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import AggregationError
from ._delta import Change, Deltas, ItemId, merge_deltas
from ._sink import GroupRejected

if TYPE_CHECKING:
    from ._spec import Aggregator

__all__ = ["Mark", "Transaction", "Unit", "pack", "transaction", "units_of", "waves"]


@dataclass(slots=True)
class Unit:
    """A contiguous run of one item's changes that commits atomically."""

    item: ItemId
    changes: list[Change]
    groups: frozenset[Any] = field(default=frozenset())

    @property
    def first(self) -> int:
        return self.changes[0].sequence

    @property
    def last(self) -> int:
        return self.changes[-1].sequence


@dataclass(frozen=True, slots=True)
class Mark:
    """A watermark action: set the item's watermark to ``last`` if it is below ``first``."""

    item: ItemId
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Transaction:
    """One atomic write: coalesced group deltas plus the watermarks of its units."""

    groups: tuple[tuple[Any, dict[str, Any]], ...]
    marks: tuple[Mark, ...]
    token: str
    #: Watermarks kept in the group items (``GroupLedger``): group -> marks of the items whose
    #: records touch it (``first`` is the item's first record touching that group).
    inline: tuple[tuple[Any, tuple[Mark, ...]], ...] = ()

    @property
    def actions(self) -> int:
        return len(self.groups) + len(self.marks)


def _group_order(group: Any) -> str:
    return repr(group)


def units_of(changes: Iterable[Change], *, max_groups: int) -> list[Unit]:
    """Split changes into per-item units, each touching at most ``max_groups`` groups.

    Only items with an effect get a unit. Within an item, records are sorted by sequence number
    and duplicates (same sequence number twice in one batch) are dropped.
    """
    by_item: dict[ItemId, dict[int, Change]] = {}
    for change in changes:
        by_item.setdefault(change.item, {}).setdefault(change.sequence, change)
    items = []
    for item, seen in by_item.items():
        ordered = [seen[s] for s in sorted(seen)]
        if any(c.deltas for c in ordered):
            items.append((item, ordered))
    items.sort(key=lambda pair: min(_group_order(g) for c in pair[1] for g in c.deltas))
    units: list[Unit] = []
    for item, ordered in items:
        current: list[Change] = []
        groups: set[Any] = set()
        for change in ordered:
            if current and len(groups | set(change.deltas)) > max_groups:
                units.append(Unit(item, current, frozenset(groups)))
                current, groups = [], set()
            current.append(change)
            groups |= set(change.deltas)
        units.append(Unit(item, current, frozenset(groups)))
    return units


def pack(
    units: Sequence[Unit],
    *,
    max_actions: int,
    marks: bool,
    max_items: int | None = None,
    separate_groups: bool = False,
) -> list[list[Unit]]:
    """Pack units, in order, into chunks of at most ``max_actions`` actions (groups + marks),
    with at most ``max_items`` units touching any one group (inline watermarks).

    Two units of one item never share a chunk: they must commit in order. With
    ``separate_groups``, a full chunk is cut before its trailing units that share a group with
    the next unit when they fit the next chunk together, so consecutive chunks tend to touch
    disjoint groups and can be committed concurrently (see :func:`waves`); this may cost a
    few more transactions.
    """
    chunks: list[list[Unit]] = []
    current: list[Unit] = []
    groups: dict[Any, int] = {}
    items: set[ItemId] = set()
    for unit in units:
        size = len(groups.keys() | unit.groups) + (len(current) + 1 if marks else 0)
        crowded = max_items is not None and any(groups.get(g, 0) >= max_items for g in unit.groups)
        if current and (size > max_actions or unit.item in items or crowded):
            tail = _shared_tail(current, unit) if separate_groups else []
            if 0 < len(tail) < len(current) and _fits(
                [*tail, unit], max_actions=max_actions, marks=marks, max_items=max_items
            ):
                chunks.append(current[: -len(tail)])
                current = tail
            else:
                chunks.append(current)
                current = []
            groups, items = {}, set()
            for kept in current:
                for group in kept.groups:
                    groups[group] = groups.get(group, 0) + 1
                items.add(kept.item)
        current.append(unit)
        for group in unit.groups:
            groups[group] = groups.get(group, 0) + 1
        items.add(unit.item)
    if current:
        chunks.append(current)
    return chunks


def _shared_tail(current: Sequence[Unit], unit: Unit) -> list[Unit]:
    """The trailing units of ``current`` linked to ``unit`` by shared groups."""
    linked = set(unit.groups)
    start = len(current)
    while start > 0 and current[start - 1].groups & linked:
        start -= 1
        linked |= current[start].groups
    return list(current[start:])


def _fits(chunk: Sequence[Unit], *, max_actions: int, marks: bool, max_items: int | None) -> bool:
    counts: dict[Any, int] = {}
    for unit in chunk:
        for group in unit.groups:
            counts[group] = counts.get(group, 0) + 1
    if len({u.item for u in chunk}) < len(chunk):
        return False
    if max_items is not None and any(n > max_items for n in counts.values()):
        return False
    return len(counts) + (len(chunk) if marks else 0) <= max_actions


def waves(chunks: Sequence[list[Unit]], *, width: int) -> list[list[list[Unit]]]:
    """Split chunks, in order, into waves of at most ``width`` chunks that touch pairwise
    disjoint source items and groups.

    The chunks of a wave may be committed concurrently: no two of them write the same item
    (so an item's units still commit in order, wave after wave) or the same group (so they do
    not conflict on DynamoDB, and read-modify-write measures read what they overwrite).
    """
    out: list[list[list[Unit]]] = []
    groups: set[Any] = set()
    items: set[ItemId] = set()
    for chunk in chunks:
        touched = {g for u in chunk for g in u.groups}
        owned = {u.item for u in chunk}
        if out and len(out[-1]) < width and not touched & groups and not owned & items:
            out[-1].append(chunk)
            groups |= touched
            items |= owned
        else:
            out.append([chunk])
            groups, items = touched, owned
    return out


def _token(
    groups: Sequence[tuple[Any, dict[str, Any]]],
    marks: Sequence[Mark],
    inline: Sequence[tuple[Any, tuple[Mark, ...]]] = (),
) -> str:
    text = json.dumps(
        [[repr(g), sorted((k, repr(v)) for k, v in d.items())] for g, d in groups]
        + [[repr(m.item), m.first, m.last] for m in marks]
        + [[repr(g), [[repr(m.item), m.first, m.last] for m in ms]] for g, ms in inline],
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()[:36]


def _merge(spec: Aggregator, chunk: Sequence[Unit]) -> Deltas:
    """The chunk's deltas per group; a group whose coalesced delta does not fit a DynamoDB
    number is refused alone (:class:`GroupRejected`)."""
    per_group: dict[Any, list[Mapping[str, Any]]] = {}
    for unit in chunk:
        for change in unit.changes:
            for group, values in change.deltas.items():
                per_group.setdefault(group, []).append(values)
    merged: Deltas = {}
    for group, parts in per_group.items():
        try:
            merged.update(merge_deltas(spec, ({group: p} for p in parts)))
        except AggregationError as exc:
            raise GroupRejected(exc.reason, groups=frozenset([group])) from None
    return merged


def transaction(
    spec: Aggregator, chunk: Sequence[Unit], *, marks: bool, inline: bool = False
) -> Transaction:
    """Coalesce a chunk's deltas per group and attach its watermarks (as separate actions, or
    ``inline`` in the items of the groups each unit touches)."""
    merged = _merge(spec, chunk)
    if not inline:
        groups = tuple(sorted(merged.items(), key=lambda kv: _group_order(kv[0])))
        mark_list = tuple(Mark(u.item, u.first, u.last) for u in chunk) if marks else ()
        return Transaction(groups=groups, marks=mark_list, token=_token(groups, mark_list))
    per_group: dict[Any, list[Mark]] = {}
    for unit in chunk:
        firsts: dict[Any, int] = {}
        for change in unit.changes:
            for group in change.deltas:
                firsts.setdefault(group, change.sequence)
        for group, first in firsts.items():
            per_group.setdefault(group, []).append(Mark(unit.item, first, unit.last))
    order = sorted(per_group, key=_group_order)
    # every touched group is written, even at a zero net delta: it carries the watermarks
    groups = tuple((g, merged.get(g, {})) for g in order)
    entries = tuple((g, tuple(per_group[g])) for g in order)
    return Transaction(groups=groups, marks=(), token=_token(groups, (), entries), inline=entries)
