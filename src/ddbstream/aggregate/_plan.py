"""Planning writes: per-item units and their packing into transactions of bounded size.

Every source item with an effect in the batch becomes a *unit*: its records (in sequence order),
their coalesced deltas, and -- under the exactly-once strategy -- one watermark action. A
transaction holds whole units, so an item's deltas and its watermark commit or fail together,
and one write per touched group per transaction (deltas of all its units coalesced).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._delta import Change, Deltas, ItemId, merge_deltas

if TYPE_CHECKING:
    from ._spec import Aggregator

__all__ = ["Mark", "Transaction", "Unit", "pack", "transaction", "units_of"]


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


def pack(units: Sequence[Unit], *, max_actions: int, marks: bool) -> list[list[Unit]]:
    """Pack units, in order, into chunks of at most ``max_actions`` actions (groups + marks).

    Two units of one item never share a chunk: they must commit in order.
    """
    chunks: list[list[Unit]] = []
    current: list[Unit] = []
    groups: set[Any] = set()
    items: set[ItemId] = set()
    for unit in units:
        size = len(groups | unit.groups) + (len(current) + 1 if marks else 0)
        if current and (size > max_actions or unit.item in items):
            chunks.append(current)
            current, groups, items = [], set(), set()
        current.append(unit)
        groups |= unit.groups
        items.add(unit.item)
    if current:
        chunks.append(current)
    return chunks


def _token(groups: Sequence[tuple[Any, dict[str, Any]]], marks: Sequence[Mark]) -> str:
    text = json.dumps(
        [[repr(g), sorted((k, repr(v)) for k, v in d.items())] for g, d in groups]
        + [[repr(m.item), m.first, m.last] for m in marks],
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()[:36]


def transaction(spec: Aggregator, chunk: Sequence[Unit], *, marks: bool) -> Transaction:
    """Coalesce a chunk's deltas per group and attach its watermarks."""
    merged: Deltas = merge_deltas(spec, (c.deltas for unit in chunk for c in unit.changes))
    groups = tuple(sorted(merged.items(), key=lambda kv: _group_order(kv[0])))
    mark_list = tuple(Mark(u.item, u.first, u.last) for u in chunk) if marks else ()
    return Transaction(groups=groups, marks=mark_list, token=_token(groups, mark_list))
