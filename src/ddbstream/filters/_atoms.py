"""Atoms and fields: the conditions of the filter DSL on one leaf path of a stream record.

Every condition is a set of *atoms* on one leaf path (a :class:`Field`), ORed: the entries of a
pattern's value list. Atoms know how to test a leaf value, intersect, and complement
themselves, which is what lets ``~`` and ``&`` on one field compile exactly or fail loudly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Union

__all__ = [
    "ABSENT",
    "PRESENT",
    "Cond",
    "Field",
    "Kind",
    "Scalar",
    "complement",
    "intersect",
    "is_true",
    "normalize",
]

Kind = Literal["str", "bool", "true", "num"]
Scalar = Union[str, bool, Decimal]  # noqa: UP007 - a runtime alias on Python 3.10


def _as_number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:  # pragma: no cover - repr of a float is always a literal
        return None
    return number if number.is_finite() else None


def _equal(expected: Scalar, value: object) -> bool:
    if isinstance(expected, bool):
        return value is expected
    if isinstance(expected, str):
        return type(value) is str and value == expected
    number = _as_number(value)
    return number is not None and number == expected


def _fold_equal(pattern: str, value: str) -> bool:
    """event-ruler's equals-ignore-case: each pattern char matches its lower or upper form."""
    if len(pattern) != len(value):
        return False
    return all(v in (p, p.lower(), p.upper()) for p, v in zip(pattern, value, strict=True))


@dataclass(frozen=True, slots=True)
class _Atom:
    def test(self, value: object) -> bool:  # a present leaf value
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Absent(_Atom):
    def test(self, value: object) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class _Present(_Atom):
    def test(self, value: object) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class _Eq(_Atom):
    value: Scalar

    def test(self, value: object) -> bool:
        return _equal(self.value, value)


@dataclass(frozen=True, slots=True)
class _Prefix(_Atom):
    text: str

    def test(self, value: object) -> bool:
        return type(value) is str and value.startswith(self.text)


@dataclass(frozen=True, slots=True)
class _Suffix(_Atom):
    text: str

    def test(self, value: object) -> bool:
        return type(value) is str and value.endswith(self.text)


@dataclass(frozen=True, slots=True)
class _IgnoreCase(_Atom):
    text: str

    def test(self, value: object) -> bool:
        return type(value) is str and _fold_equal(self.text, value)


@dataclass(frozen=True, slots=True)
class _AnythingBut(_Atom):
    values: frozenset[Scalar]

    def test(self, value: object) -> bool:
        return not any(_equal(v, value) for v in self.values)


@dataclass(frozen=True, slots=True)
class _Range(_Atom):
    low: Decimal | None = None
    low_inclusive: bool = False
    high: Decimal | None = None
    high_inclusive: bool = False

    def test(self, value: object) -> bool:
        number = _as_number(value)
        if number is None:
            return False
        if self.low is not None and (
            number < self.low or (number == self.low and not self.low_inclusive)
        ):
            return False
        return (
            self.high is None or number < self.high or (number == self.high and self.high_inclusive)
        )

    def empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        return self.low > self.high or (
            self.low == self.high and not (self.low_inclusive and self.high_inclusive)
        )


@dataclass(frozen=True, slots=True)
class _Without(_Atom):
    """A present leaf that does not match ``atom`` (no Lambda operator says this)."""

    atom: _Atom

    def test(self, value: object) -> bool:
        return not self.atom.test(value)


@dataclass(frozen=True, slots=True)
class _Both(_Atom):
    """A leaf matching every atom (no single Lambda operator says this)."""

    atoms: frozenset[_Atom]

    def test(self, value: object) -> bool:
        return all(atom.test(value) for atom in self.atoms)


ABSENT = _Absent()
PRESENT = _Present()
Cond = frozenset[_Atom]


def _meet(a: _Atom, b: _Atom) -> _Atom | None:
    """The intersection of two atoms; ``None`` when it is empty."""
    if a == b:
        return a
    if isinstance(a, _Absent) or isinstance(b, _Absent):
        return None
    for x, y in ((a, b), (b, a)):
        if isinstance(x, _Present):
            return y
        if isinstance(x, _Eq):
            return x if y.test(x.value) else None
        if isinstance(x, _Without) and x.atom == y:
            return None
    if isinstance(a, _AnythingBut) and isinstance(b, _AnythingBut):
        return _AnythingBut(a.values | b.values)
    if type(a) is type(b) and isinstance(a, (_Prefix, _Suffix)):
        assert isinstance(b, (_Prefix, _Suffix))
        longer, shorter = (a, b) if len(a.text) >= len(b.text) else (b, a)
        return longer if longer.test(shorter.text) or shorter.test(longer.text) else None
    if isinstance(a, _Range) and isinstance(b, _Range):
        return _meet_ranges(a, b)
    for x, y in ((a, b), (b, a)):
        narrower = (_Prefix, _Suffix, _Range, _IgnoreCase)
        if (
            isinstance(x, _AnythingBut)
            and isinstance(y, narrower)
            and not any(y.test(v) for v in x.values)
        ):
            return y
    parts: set[_Atom] = set()
    for atom in (a, b):
        parts.update(atom.atoms if isinstance(atom, _Both) else (atom,))
    return _Both(frozenset(parts))


def _meet_ranges(a: _Range, b: _Range) -> _Range | None:
    low, low_inc = a.low, a.low_inclusive
    if b.low is not None and (low is None or b.low > low or (b.low == low and not b.low_inclusive)):
        low, low_inc = b.low, b.low_inclusive
    high, high_inc = a.high, a.high_inclusive
    if b.high is not None and (
        high is None or b.high < high or (b.high == high and not b.high_inclusive)
    ):
        high, high_inc = b.high, b.high_inclusive
    out = _Range(low, low_inc, high, high_inc)
    return None if out.empty() else out


def _complement_atom(atom: _Atom, kind: Kind) -> Cond:
    if isinstance(atom, _Absent):
        return frozenset({PRESENT})
    if isinstance(atom, _Present):
        return frozenset({ABSENT})
    if isinstance(atom, _Eq):
        if kind == "bool":
            return frozenset({ABSENT, _Eq(not atom.value)})
        if kind == "true":
            return frozenset({ABSENT})
        return frozenset({ABSENT, _AnythingBut(frozenset({atom.value}))})
    if isinstance(atom, _AnythingBut):
        return frozenset({ABSENT, *(_Eq(v) for v in atom.values)})
    if isinstance(atom, _Range):
        out: set[_Atom] = {ABSENT}
        if atom.low is not None:
            out.add(_Range(None, False, atom.low, not atom.low_inclusive))
        if atom.high is not None:
            out.add(_Range(atom.high, not atom.high_inclusive, None, False))
        return frozenset(out)
    if isinstance(atom, _Without):
        return frozenset({ABSENT, atom.atom})
    if isinstance(atom, _Both):
        result: Cond = frozenset()
        for part in atom.atoms:
            result = result | _complement_atom(part, kind)
        return result
    return frozenset({ABSENT, _Without(atom)})


def normalize(cond: Iterable[_Atom], field: Field) -> Cond:
    """Simplify a union of atoms (drop subsumed atoms, merge anything-but lists)."""
    kind, always = field.kind, field.always
    atoms = set(cond)
    if field.choices is not None:  # a closed set of values
        hits = {c for c in field.choices if any(a.test(c) for a in atoms)}
        absent: set[_Atom] = {a for a in atoms if isinstance(a, _Absent)}
        if hits == field.choices:
            atoms = absent | {PRESENT}
        elif not hits:
            atoms = absent
        elif any(isinstance(a, (_Without, _Both)) for a in atoms):  # say it with values
            rest = field.choices - hits
            short = {_AnythingBut(rest)} if len(rest) < len(hits) else {_Eq(c) for c in hits}
            return frozenset(absent | short)
    if always:
        atoms.discard(ABSENT)
    if kind == "bool" and {_Eq(True), _Eq(False)} <= atoms:
        atoms -= {_Eq(True), _Eq(False)}
        atoms.add(PRESENT)
    if PRESENT in atoms:
        return frozenset({PRESENT} | (atoms & {ABSENT}))
    excluded = [a for a in atoms if isinstance(a, _AnythingBut)]
    if excluded:
        atoms -= set(excluded)
        values = frozenset.intersection(*(a.values for a in excluded))
        values = frozenset(v for v in values if not any(a.test(v) for a in atoms))
        if not values:
            return normalize(atoms | {PRESENT}, field)
        atoms.add(_AnythingBut(values))
    out = set(atoms)
    for atom in atoms:
        if (
            isinstance(atom, _Eq)
            and any(not isinstance(o, (_Eq, _Absent)) and o.test(atom.value) for o in atoms)
        ) or (
            isinstance(atom, (_Prefix, _Suffix))
            and any(type(o) is type(atom) and o != atom and o.test(atom.text) for o in atoms)
        ):
            out.discard(atom)
    return frozenset(out)


def intersect(a: Cond, b: Cond, field: Field) -> Cond:
    """The AND of two conditions on one path."""
    out = {m for x in a for y in b if (m := _meet(x, y)) is not None}
    return normalize(out, field)


def complement(cond: Cond, field: Field) -> Cond:
    """The NOT of a condition on one path (the value domain follows ``kind``)."""
    result: Cond = normalize({ABSENT, PRESENT}, field)
    for atom in cond:
        result = intersect(result, _complement_atom(atom, field.kind), field)
    return result


def is_true(cond: Cond, field: Field) -> bool:
    return PRESENT in cond and (field.always or ABSENT in cond)


@dataclass(frozen=True, slots=True)
class Field:
    """A leaf path of the Lambda record, with the JSON type of its value."""

    path: tuple[str, ...]
    kind: Kind
    always: bool = False  # present on every record (eventName)
    choices: frozenset[str] | None = None  # the only values it takes
    multi: bool = False  # a set or list: a condition holds when any element satisfies it

    def values(self, record: Mapping[str, Any]) -> list[object]:
        """The leaf values at the path; arrays on the way are looked through (any element)."""
        nodes: list[object] = [record]
        for part in self.path:
            found: list[object] = []
            for node in nodes:
                if isinstance(node, Mapping) and part in node:
                    child = node[part]
                    found.extend(child) if isinstance(child, list) else found.append(child)
            nodes = found
        return [v for v in nodes if not isinstance(v, (Mapping, list))]

    def test(self, cond: Cond, record: Mapping[str, Any]) -> bool:
        found = self.values(record)
        return any(
            (not found) if isinstance(atom, _Absent) else any(atom.test(v) for v in found)
            for atom in cond
        )
