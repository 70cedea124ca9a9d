"""Atoms and fields: the conditions of the filter DSL on one leaf path of a stream record.

A condition on one leaf path (a :class:`Field`) is a set of *atoms* (:data:`Atoms`), ORed: the
entries of a pattern's value list. Each atom tests a leaf value, writes its own pattern entry
and says what its complement is (:mod:`ddbstream.filters._algebra` combines them). Adding a
Lambda operator to the DSL is adding an atom here (and a builder method).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal, Union

from .._errors import FilterNotExpressible

__all__ = [
    "ABSENT",
    "PRESENT",
    "Absent",
    "AnythingBut",
    "Atom",
    "Atoms",
    "Both",
    "Eq",
    "Field",
    "IgnoreCase",
    "Kind",
    "Prefix",
    "Present",
    "Range",
    "Scalar",
    "Suffix",
    "Without",
    "as_number",
    "entries",
    "json_number",
]

#: The JSON type of a leaf: a string, a boolean, only ever ``true`` (a NULL), or a number.
Kind = Literal["str", "bool", "true", "num"]
Scalar = Union[str, bool, Decimal]  # noqa: UP007 - a runtime alias on Python 3.10


def as_number(value: object) -> Decimal | None:
    """``value`` as an exact finite Decimal (floats through their repr), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:  # pragma: no cover - repr of a float is always a literal
        return None
    return number if number.is_finite() else None


def json_number(value: Decimal) -> int | float:
    """The JSON number a numeric filter writes for ``value`` (exactly, or refused)."""
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    out = float(value)
    if Decimal(repr(out)) != value:
        raise FilterNotExpressible(f"{value} has no exact JSON double form for a numeric filter")
    return out


def _equal(expected: Scalar, value: object) -> bool:
    if isinstance(expected, bool):
        return value is expected
    if isinstance(expected, str):
        return type(value) is str and value == expected
    number = as_number(value)
    return number is not None and number == expected


def _fold_equal(pattern: str, value: str) -> bool:
    """event-ruler's equals-ignore-case: each pattern char matches its lower or upper form."""
    if len(pattern) != len(value):
        return False
    return all(v in (p, p.lower(), p.upper()) for p, v in zip(pattern, value, strict=True))


@dataclass(frozen=True, slots=True)
class Atom:
    """One entry of a value list: a test on a present leaf value."""

    rank: ClassVar[int] = 1  # where its entry goes in a value list (values first)
    operator: ClassVar[str] = ""  # the Lambda operator, for messages

    def test(self, value: object) -> bool:
        raise NotImplementedError

    def entry(self, where: str) -> Any:
        """The pattern entry (``where`` names the field in a refusal)."""
        raise NotImplementedError

    def complement(self, kind: Kind) -> Atoms:
        """The atoms (ORed) true exactly where this one is false, leaf missing included."""
        return frozenset({ABSENT, Without(self)})


@dataclass(frozen=True, slots=True)
class Absent(Atom):
    """No leaf at the path (``exists: false``)."""

    rank: ClassVar[int] = 2

    def test(self, value: object) -> bool:
        return False

    def entry(self, where: str) -> Any:
        return {"exists": False}

    def complement(self, kind: Kind) -> Atoms:
        return frozenset({PRESENT})


@dataclass(frozen=True, slots=True)
class Present(Atom):
    """Any leaf (``exists: true``)."""

    def test(self, value: object) -> bool:
        return True

    def entry(self, where: str) -> Any:
        return {"exists": True}

    def complement(self, kind: Kind) -> Atoms:
        return frozenset({ABSENT})


@dataclass(frozen=True, slots=True)
class Eq(Atom):
    """Equal to ``value`` (a number compares numerically)."""

    value: Scalar
    rank: ClassVar[int] = 0

    def test(self, value: object) -> bool:
        return _equal(self.value, value)

    def entry(self, where: str) -> Any:
        if isinstance(self.value, Decimal):
            return {"numeric": ["=", json_number(self.value)]}
        return self.value

    def complement(self, kind: Kind) -> Atoms:
        if kind == "bool":
            return frozenset({ABSENT, Eq(not self.value)})
        if kind == "true":
            return frozenset({ABSENT})
        return frozenset({ABSENT, AnythingBut(frozenset({self.value}))})


@dataclass(frozen=True, slots=True)
class Prefix(Atom):
    text: str
    operator: ClassVar[str] = "prefix"

    def test(self, value: object) -> bool:
        return type(value) is str and value.startswith(self.text)

    def entry(self, where: str) -> Any:
        return {"prefix": self.text}


@dataclass(frozen=True, slots=True)
class Suffix(Atom):
    text: str
    operator: ClassVar[str] = "suffix"

    def test(self, value: object) -> bool:
        return type(value) is str and value.endswith(self.text)

    def entry(self, where: str) -> Any:
        return {"suffix": self.text}


@dataclass(frozen=True, slots=True)
class IgnoreCase(Atom):
    text: str
    operator: ClassVar[str] = "equals-ignore-case"

    def test(self, value: object) -> bool:
        return type(value) is str and _fold_equal(self.text, value)

    def entry(self, where: str) -> Any:
        return {"equals-ignore-case": self.text}


@dataclass(frozen=True, slots=True)
class AnythingBut(Atom):
    """A present leaf equal to none of ``values``."""

    values: frozenset[Scalar]

    def test(self, value: object) -> bool:
        return not any(_equal(v, value) for v in self.values)

    def entry(self, where: str) -> Any:
        values = sorted(self.values, key=lambda v: (str(type(v)), v))
        return {"anything-but": [json_number(v) if isinstance(v, Decimal) else v for v in values]}

    def complement(self, kind: Kind) -> Atoms:
        return frozenset({ABSENT, *(Eq(v) for v in self.values)})


@dataclass(frozen=True, slots=True)
class Range(Atom):
    """A number within bounds (``None``: unbounded)."""

    low: Decimal | None = None
    low_inclusive: bool = False
    high: Decimal | None = None
    high_inclusive: bool = False

    def test(self, value: object) -> bool:
        number = as_number(value)
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

    def entry(self, where: str) -> Any:
        if self.low is not None and self.low == self.high:
            return {"numeric": ["=", json_number(self.low)]}
        terms: list[Any] = []
        if self.low is not None:
            terms += [">=" if self.low_inclusive else ">", json_number(self.low)]
        if self.high is not None:
            terms += ["<=" if self.high_inclusive else "<", json_number(self.high)]
        return {"numeric": terms}

    def complement(self, kind: Kind) -> Atoms:
        out: set[Atom] = {ABSENT}
        if self.low is not None:
            out.add(Range(None, False, self.low, not self.low_inclusive))
        if self.high is not None:
            out.add(Range(self.high, not self.high_inclusive, None, False))
        return frozenset(out)


@dataclass(frozen=True, slots=True)
class Without(Atom):
    """A present leaf that does not match ``atom`` (no Lambda operator says this)."""

    atom: Atom

    def test(self, value: object) -> bool:
        return not self.atom.test(value)

    def entry(self, where: str) -> Any:
        name = self.atom.operator or type(self.atom).__name__
        raise FilterNotExpressible(
            f"cannot express NOT {name} on {where}: Lambda has no negated {name} "
            "(anything-but with a prefix/suffix is EventBridge-only); use a router predicate"
        )

    def complement(self, kind: Kind) -> Atoms:
        return frozenset({ABSENT, self.atom})


@dataclass(frozen=True, slots=True)
class Both(Atom):
    """A leaf matching every atom (no single Lambda operator says this)."""

    atoms: frozenset[Atom]

    def test(self, value: object) -> bool:
        return all(atom.test(value) for atom in self.atoms)

    def entry(self, where: str) -> Any:
        parts = ", ".join(sorted(repr(a) for a in self.atoms))
        raise FilterNotExpressible(
            f"cannot express the AND of several conditions on {where} ({parts}): Lambda can "
            "test one field only with an OR of operators; use a router predicate for the rest"
        )

    def complement(self, kind: Kind) -> Atoms:
        result: Atoms = frozenset()
        for part in self.atoms:
            result = result | part.complement(kind)
        return result


ABSENT = Absent()
PRESENT = Present()
#: A condition on one path: atoms, ORed.
Atoms = frozenset[Atom]


def entries(atoms: Atoms, where: str) -> list[Any]:
    """The value list of a condition: values first, ``exists: false`` last."""
    return [atom.entry(where) for atom in sorted(atoms, key=lambda a: (a.rank, repr(a)))]


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

    def test(self, atoms: Atoms, record: Mapping[str, Any]) -> bool:
        """Whether the condition holds on ``record``, the way the DSL reads it."""
        found = self.values(record)
        return any(
            (not found) if isinstance(atom, Absent) else any(atom.test(v) for v in found)
            for atom in atoms
        )
