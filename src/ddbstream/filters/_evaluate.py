"""Local evaluation of Lambda filter patterns with event-ruler's semantics: the general matcher.

:class:`SubRules` evaluates patterns the way event-ruler defines them: as sub-rules (one per
``$or`` combination), each a set of dotted fields that must all hold on leaves of the record,
with *array consistency* (a match may not combine fields from different elements of one
array). It handles every record: arrays, dotted record keys, any mapping. It walks records
without recursion and decides array consistency by dynamic programming over the fields, in
time polynomial in the record where trying every combination of elements would not be.
:mod:`ddbstream.filters._matcher` generates the fast path for the common records and defers
here for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._json import Walk, dumps, run
from ._operators import Match, value_test
from ._pattern import FieldMatch, Rule, fold, overrides, sub_rules

__all__ = ["FieldCheck", "SubRules", "has_dotted", "rule_matches"]

_MISSING: Any = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})
Membership = tuple[tuple[int, int], ...]  # (id of an array, index in it), sorted


class FieldCheck:
    """One field of a sub-rule: its dotted ``name`` (split into ``segs``), its ``matches`` and
    their ``test`` on a present leaf; ``absent`` when ``exists: false`` is one of them."""

    __slots__ = (
        "absent", "inlinable", "matches", "name", "prefixes", "segs", "strings", "suffixes", "test",
    )  # fmt: skip

    def __init__(self, name: str, matches: tuple[Match, ...], segs: tuple[str, ...]) -> None:
        self.name = name
        self.segs = segs
        self.matches = matches
        self.test = value_test(matches)
        self.absent = any(m.kind == "absent" for m in matches)
        self.strings = frozenset(m.operand for m in matches if m.kind == "exact")
        self.prefixes = tuple(m.operand for m in matches if m.kind == "prefix")
        self.suffixes = tuple(m.operand for m in matches if m.kind == "suffix")
        #: only string tests: the generated code writes them inline
        self.inlinable = all(m.kind in ("exact", "prefix", "suffix") for m in matches)

    def relative(self, level: int) -> FieldCheck:
        """The same field seen from ``level`` segments down its path."""
        other = object.__new__(FieldCheck)
        for slot in FieldCheck.__slots__:
            object.__setattr__(other, slot, getattr(self, slot))
        other.segs = self.segs[level:]
        return other

    def leaves(self, record: Any) -> list[tuple[Any, Membership]]:
        """Every leaf at the path below ``record``, with the array elements it lies in."""
        out: list[tuple[Any, Membership]] = []
        segs, n = self.segs, len(self.segs)
        todo: list[tuple[Any, int, Membership]] = [(record, 0, ())]
        while todo:
            node, i, mem = todo.pop()
            cls = node.__class__
            if cls is list or cls is tuple:
                array = id(node)
                if any(seen == array for seen, _ in mem):
                    continue  # an array inside itself: only Python objects can be cyclic
                for index in range(len(node) - 1, -1, -1):
                    todo.append((node[index], i, tuple(sorted((*mem, (array, index))))))
            elif cls is not dict and (cls in _SCALARS or not isinstance(node, Mapping)):
                if i == n:
                    out.append((node, mem))
            elif i < n:  # an object is not a leaf
                child = node.get(segs[i], _MISSING)
                if child is not _MISSING:
                    todo.append((child, i + 1, mem))
                elif i + 1 < n and has_dotted(node, segs[i]):
                    # a record key may contain dots ({"a.b": ...} is the field "a.b"); consulted
                    # only when the plain key is absent (docs/filters.md, "Dotted keys")
                    for j in range(n, i + 1, -1):
                        child = node.get(".".join(segs[i:j]), _MISSING)
                        if child is not _MISSING:
                            todo.append((child, j, mem))
        return out


def has_dotted(node: Mapping[Any, Any], seg: str) -> bool:
    """Whether a key of ``node`` starts with ``seg.`` (a dotted key that may stand for a path
    through ``seg``)."""
    start = seg + "."
    return any(key.__class__ is str and key.startswith(start) for key in node)


def _merge(a: Membership, b: Membership) -> Membership | None:
    if not a:
        return b
    if not b:
        return a
    seen = dict(a)
    for array, index in b:
        if seen.setdefault(array, index) != index:
            return None
    return tuple(sorted(seen.items()))


# per field: memberships of the matching leaves, and of all its leaves when exists:false applies
Candidates = list[tuple[list[Membership], list[Membership] | None]]


def _consistent(candidates: Candidates) -> bool:
    """event-ruler's array consistency over the fields of a sub-rule, in sorted name order.

    A field holds with one of its matching leaves whose arrays agree with the elements chosen
    so far, or (``exists: false``) when none of its leaves agrees with them. Only the arrays
    that later fields can reach matter, so the choices are kept projected onto those: their
    number stays polynomial in the record, where trying every combination would not.
    """
    if not any(any(matching) or any(everything or ()) for matching, everything in candidates):
        # no arrays: each field holds on its own
        return all(
            matching or (everything is not None and not everything)
            for matching, everything in candidates
        )
    reach: list[frozenset[int]] = [frozenset()] * len(candidates)
    later: set[int] = set()
    for i in range(len(candidates) - 1, -1, -1):
        reach[i] = frozenset(later)
        matching, everything = candidates[i]
        for where in (*matching, *(everything or ())):
            later.update(array for array, _ in where)
    states: set[Membership] = {()}
    for (matching, everything), keep in zip(candidates, reach, strict=True):
        following: set[Membership] = set()
        for mem in states:
            for where in matching:
                merged = _merge(mem, where)
                if merged is not None:
                    following.add(tuple(p for p in merged if p[0] in keep))
            if everything is not None and all(_merge(mem, where) is None for where in everything):
                following.add(tuple(p for p in mem if p[0] in keep))
        if not following:
            return False
        states = following
    return True


def rule_matches(record: Any, fields: Sequence[FieldCheck]) -> bool:
    """event-ruler's array-consistent match of one sub-rule (fields in sorted name order)."""
    candidates: Candidates = []
    for field in fields:
        leaves = field.leaves(record)
        test = field.test
        matching = [where for value, where in leaves if test(value)]
        if not matching and not field.absent:
            return False
        candidates.append((matching, [where for _, where in leaves] if field.absent else None))
    return _consistent(candidates)


def _explain_rule(record: Any, fields: Sequence[FieldCheck]) -> str | None:
    mem: Membership = ()
    for field in fields:
        leaves = field.leaves(record)
        expected = "[" + ",".join(m.describe() for m in field.matches) + "]"
        chosen = None
        for value, where in leaves:
            merged = _merge(mem, where)
            if merged is not None and field.test(value):
                chosen = merged
                break
        if chosen is not None:
            mem = chosen
            continue
        visible = [where for _, where in leaves if _merge(mem, where) is not None]
        if field.absent and not visible:
            continue
        if not leaves:
            return f"{field.name}: no value (missing, or not a leaf); expected {expected}"
        shown = ", ".join(dumps(value) for value, _ in leaves[:20])
        if any(field.test(value) for value, _ in leaves):
            return (
                f"{field.name}: {shown} matches {expected} only in another element of an "
                "array than the other conditions (array consistency)"
            )
        return f"{field.name}: {shown} does not match {expected}"
    return None


class SubRules:
    """The general matcher: patterns (ORed) as event-ruler's sub-rules.

    Each distinct field of the patterns is one bit; a sub-rule is the mask of its fields.
    Matching a record tests each field once, however many sub-rules share it, marks the fields
    that fail outright, and runs the array-consistency search only over the fields whose leaves
    lie in arrays, for the sub-rules that are left: time linear in the fields plus the
    sub-rules, not their product.
    """

    __slots__ = ("_checks", "_table", "overrides", "rules")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        #: some sub-rule writes a field twice (the later write replaces the earlier one)
        self.overrides = any(overrides(rule) for rule in self.rules)
        self._checks: dict[tuple[str, int], FieldCheck] = {}
        self._table: tuple[tuple[FieldCheck, ...], tuple[int, ...]] | None = None

    def check(self, name: str, matches: tuple[Match, ...]) -> FieldCheck:
        """The (shared) :class:`FieldCheck` of a field of these patterns."""
        key = (name, id(matches))
        found = self._checks.get(key)
        if found is None:
            found = self._checks[key] = FieldCheck(name, matches, tuple(name.split(".")))
        return found

    def table(self) -> tuple[tuple[FieldCheck, ...], tuple[int, ...]]:
        """The distinct fields (bit ``i`` is field ``i``, in name order) and the sub-rules'
        masks."""
        if self._table is None:
            for rule in self.rules:
                run(_fields(rule, self.check))
            fields = tuple(sorted(self._checks.values(), key=lambda field: field.name))
            bits = {field: 1 << i for i, field in enumerate(fields)}
            masks: list[int] = []
            for rule in self.rules:
                if self.overrides:  # only fields by name know which write of a field remains
                    subs = sub_rules(rule)
                    masks += (
                        sum(bits[self.check(f.name, f.matches)] for f in s.values()) for s in subs
                    )
                else:
                    masks += fold(rule, int, _bit(bits, self.check), int)
            self._table = fields, tuple(masks)
        return self._table

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether some sub-rule holds on ``record`` (a mapping in Lambda's shape)."""
        fields, masks = self.table()
        failed = in_arrays = 0
        candidates: dict[int, tuple[list[Membership], list[Membership] | None]] = {}
        leaves: dict[str, list[tuple[Any, Membership]]] = {}
        for i, field in enumerate(fields):
            at = leaves.get(field.name)
            if at is None:
                at = leaves[field.name] = field.leaves(record)
            matching = [where for value, where in at if field.test(value)]
            if not any(where for _, where in at):  # decided without any array
                if not (matching or (field.absent and not at)):
                    failed |= 1 << i
            elif not matching and not field.absent:
                failed |= 1 << i
            else:
                in_arrays |= 1 << i
                candidates[i] = (matching, [where for _, where in at] if field.absent else None)
        for mask in masks:
            if mask & failed:
                continue
            need = mask & in_arrays
            if not need:
                return True
            order = [i for i in range(need.bit_length()) if need >> i & 1]
            if _consistent([candidates[i] for i in order]):
                return True
        return False

    def admits(self, name: str, value: Any) -> bool:
        """Whether some sub-rule's conditions on the field ``name`` alone hold for ``value``."""
        fields, masks = self.table()
        failed = sum(1 << i for i, f in enumerate(fields) if f.name == name and not f.test(value))
        return any(not mask & failed for mask in masks)

    def explain(self, record: Mapping[str, Any]) -> str | None:
        """None when the record matches, else why the first condition of each sub-rule failed."""
        if self.matches(record):
            return None
        fields, masks = self.table()
        reasons = [
            _explain_rule(record, [f for i, f in enumerate(fields) if mask >> i & 1]) or "no match"
            for mask in masks[:20]
        ]
        if len(reasons) == 1:
            return reasons[0]
        listed = "; ".join(f"[{i + 1}] {reason}" for i, reason in enumerate(reasons))
        more = f"; and {len(masks) - 20} more" if len(masks) > 20 else ""
        return f"no $or alternative matched: {listed}{more}"


Checker = Callable[[str, tuple[Match, ...]], FieldCheck]


def _fields(rule: Rule, check: Checker) -> Walk[None]:
    for item in rule.items:
        if isinstance(item, FieldMatch):
            check(item.name, item.matches)
        else:
            for branch in item.branches:
                yield _fields(branch, check)


def _bit(
    bits: Mapping[FieldCheck, int], check: Checker
) -> Callable[[list[int], FieldMatch], list[int]]:
    """Writing a field into sub-rules that are masks: setting its bit."""

    def write(masks: list[int], item: FieldMatch) -> list[int]:
        bit = bits[check(item.name, item.matches)]
        return [mask | bit for mask in masks]

    return write
