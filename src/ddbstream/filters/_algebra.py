"""The algebra of conditions on one field: AND (:func:`intersect`), OR (:func:`simplify` of a
union) and NOT (:func:`complement`) of sets of atoms.

This is what lets ``~`` and ``&`` on one field compile exactly (``~(x == "a")`` is
``anything-but "a"`` or a missing field) or fail loudly (the AND of two unrelated prefixes has
no Lambda operator: it stays a :class:`Both` atom, which refuses to be written).
"""

from __future__ import annotations

from collections.abc import Iterable

from ._atoms import (
    ABSENT,
    PRESENT,
    Absent,
    AnythingBut,
    Atom,
    Atoms,
    Both,
    Eq,
    Field,
    IgnoreCase,
    Prefix,
    Present,
    Range,
    Suffix,
    Without,
)

__all__ = ["complement", "intersect", "is_true", "simplify"]


def _meet(a: Atom, b: Atom) -> Atom | None:
    """The intersection of two atoms; ``None`` when it is empty."""
    if a == b:
        return a
    if isinstance(a, Absent) or isinstance(b, Absent):
        return None
    for x, y in ((a, b), (b, a)):
        if isinstance(x, Present):
            return y
        if isinstance(x, Eq):
            return x if y.test(x.value) else None
        if isinstance(x, Without) and x.atom == y:
            return None
    if isinstance(a, AnythingBut) and isinstance(b, AnythingBut):
        return AnythingBut(a.values | b.values)
    if type(a) is type(b) and isinstance(a, (Prefix, Suffix)):
        assert isinstance(b, (Prefix, Suffix))
        longer, shorter = (a, b) if len(a.text) >= len(b.text) else (b, a)
        return longer if longer.test(shorter.text) or shorter.test(longer.text) else None
    if isinstance(a, Range) and isinstance(b, Range):
        return _meet_ranges(a, b)
    for x, y in ((a, b), (b, a)):
        narrower = (Prefix, Suffix, Range, IgnoreCase)
        if (
            isinstance(x, AnythingBut)
            and isinstance(y, narrower)
            and not any(y.test(v) for v in x.values)
        ):
            return y
    parts: set[Atom] = set()
    for atom in (a, b):
        parts.update(atom.atoms if isinstance(atom, Both) else (atom,))
    return Both(frozenset(parts))


def _meet_ranges(a: Range, b: Range) -> Range | None:
    low, low_inc = a.low, a.low_inclusive
    if b.low is not None and (low is None or b.low > low or (b.low == low and not b.low_inclusive)):
        low, low_inc = b.low, b.low_inclusive
    high, high_inc = a.high, a.high_inclusive
    if b.high is not None and (
        high is None or b.high < high or (b.high == high and not b.high_inclusive)
    ):
        high, high_inc = b.high, b.high_inclusive
    out = Range(low, low_inc, high, high_inc)
    return None if out.empty() else out


def simplify(atoms: Iterable[Atom], field: Field) -> Atoms:
    """Simplify a union of atoms (drop subsumed atoms, merge anything-but lists)."""
    kind, always = field.kind, field.always
    out = set(atoms)
    if field.choices is not None:  # a closed set of values
        hits = {c for c in field.choices if any(a.test(c) for a in out)}
        absent: set[Atom] = {a for a in out if isinstance(a, Absent)}
        if hits == field.choices:
            out = absent | {PRESENT}
        elif not hits:
            out = absent
        elif any(isinstance(a, (Without, Both)) for a in out):  # say it with values
            rest = field.choices - hits
            short = {AnythingBut(rest)} if len(rest) < len(hits) else {Eq(c) for c in hits}
            return frozenset(absent | short)
    if always:
        out.discard(ABSENT)
    if kind == "bool" and {Eq(True), Eq(False)} <= out:
        out -= {Eq(True), Eq(False)}
        out.add(PRESENT)
    if PRESENT in out:
        return frozenset({PRESENT} | (out & {ABSENT}))
    excluded = [a for a in out if isinstance(a, AnythingBut)]
    if excluded:
        out -= set(excluded)
        values = frozenset.intersection(*(a.values for a in excluded))
        values = frozenset(v for v in values if not any(a.test(v) for a in out))
        if not values:
            return simplify(out | {PRESENT}, field)
        out.add(AnythingBut(values))
    kept = set(out)
    for atom in out:
        if (
            isinstance(atom, Eq)
            and any(not isinstance(o, (Eq, Absent)) and o.test(atom.value) for o in out)
        ) or (
            isinstance(atom, (Prefix, Suffix))
            and any(type(o) is type(atom) and o != atom and o.test(atom.text) for o in out)
        ):
            kept.discard(atom)
    return frozenset(kept)


def intersect(a: Atoms, b: Atoms, field: Field) -> Atoms:
    """The AND of two conditions on one path."""
    return simplify({m for x in a for y in b if (m := _meet(x, y)) is not None}, field)


def complement(atoms: Atoms, field: Field) -> Atoms:
    """The NOT of a condition on one path (the value domain follows ``field.kind``)."""
    result: Atoms = simplify({ABSENT, PRESENT}, field)
    for atom in atoms:
        result = intersect(result, atom.complement(field.kind), field)
    return result


def is_true(atoms: Atoms, field: Field) -> bool:
    """Whether the condition holds on every record."""
    return PRESENT in atoms and (field.always or ABSENT in atoms)
