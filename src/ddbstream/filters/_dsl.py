"""Filter expressions over a DynamoDB stream record: descriptor-aware builders and operators.

An :class:`Expression` is something Lambda FilterCriteria can evaluate; a
:class:`LocalPredicate` (``changed()``, ``where()``) is something only Python can. Both have
``matches(record)``; only expressions compile (``to_patterns()`` / ``to_criteria()``).

The record shape the builders address::

    {"eventName": "MODIFY", "userIdentity": {"type": ..., "principalId": ...},
     "dynamodb": {"ApproximateCreationDateTime": 1718000000.0, "SizeBytes": 180,
                  "Keys": {"pk": {"S": "..."}}, "NewImage": {...}, "OldImage": {...}}}

Every condition is a set of *atoms* on one leaf path, ORed (the entries of a pattern's value
list). Atoms know how to test a leaf value, intersect, and complement themselves, which is what
lets ``~`` and ``&`` on one field compile exactly or fail loudly.
"""

from __future__ import annotations

import base64
import datetime as _dt
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal, Union, overload

from .._errors import FilterNotExpressible, UsageError

if TYPE_CHECKING:
    from ._criteria import FilterCriteria
    from ._typed import TypeInfo

__all__ = [
    "Attribute",
    "Expression",
    "LocalPredicate",
    "RecordField",
    "approximate_creation_time",
    "canonical_number",
    "changed",
    "event_name",
    "keys",
    "new_image",
    "old_image",
    "size_bytes",
    "ttl_delete",
    "where",
]

Kind = Literal["str", "bool", "true", "num"]
Scalar = Union[str, bool, Decimal]  # noqa: UP007 - a runtime alias on Python 3.10
_ROUTER_HINT = (
    "evaluate it locally instead, e.g. where(lambda r: r.new_image['amount'] > 5) "
    "as a router predicate"
)


# ---------------------------------------------------------------------------------------------
# Atoms: one matcher on one leaf path
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Fields: leaf paths in the record
# ---------------------------------------------------------------------------------------------


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


def _lambda_record(record: object) -> Mapping[str, Any]:
    if isinstance(record, Mapping):
        return record
    inner = getattr(record, "lambda_record", None)
    if isinstance(inner, Mapping):
        return inner
    raise UsageError(
        f"matches() takes a Lambda stream record dict or a StreamRecord, "
        f"got {type(record).__name__}"
    )


# ---------------------------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------------------------


class Expression:
    """A filter Lambda can evaluate: compile it with ``to_patterns()`` or ``to_criteria()``.

    Built from :func:`new_image`, :func:`old_image`, :func:`keys`, :data:`event_name` and the
    other builders, and combined with ``&`` (AND), ``|`` (OR) and ``~`` (NOT). Combining with a
    :class:`LocalPredicate` yields a :class:`LocalPredicate`.

    Example:
        >>> from ddbstream.filters import event_name, new_image
        >>> expr = (event_name == "INSERT") & (new_image("status") == "SHIPPED")
        >>> expr.matches({"eventName": "INSERT",
        ...               "dynamodb": {"NewImage": {"status": {"S": "SHIPPED"}}}})
        True
    """

    # The compiled matcher, set lazily (expressions are immutable): absent until the first
    # call, True after it (compile on the next), then the compiled patterns' matcher, or False
    # when the expression does not compile (it is then evaluated by walking the tree).
    __slots__ = ("_compiled",)
    _compiled: Callable[[Mapping[str, Any]], bool] | bool

    def matches(self, record: object) -> bool:
        """Evaluate locally, with Lambda's semantics, on a raw record dict or a StreamRecord.

        From the second call on, an expressible expression runs through its compiled patterns
        (the matcher ``Filter`` uses, about 5x faster than walking the expression); one that
        does not compile is evaluated by walking the expression tree. Both agree, which a
        property test checks.
        """
        mapping = record if record.__class__ is dict else _lambda_record(record)
        try:
            match = self._compiled
        except AttributeError:  # the first call: compiling (~2 ms) pays off from the second
            object.__setattr__(self, "_compiled", True)
            return self._eval(mapping)
        if match is True:
            match = self._compile()
        if isinstance(match, bool):
            return self._eval(mapping)
        return match(mapping)

    def _compile(self) -> Callable[[Mapping[str, Any]], bool] | bool:
        from .._errors import LimitExceeded
        from ._compile import compile_filters
        from ._criteria import HARD_MAX_FILTERS, Filter

        match: Callable[[Mapping[str, Any]], bool] | bool
        try:
            patterns = compile_filters(self, max_filters=HARD_MAX_FILTERS)
        except (FilterNotExpressible, LimitExceeded):
            match = False
        else:
            tests = tuple(Filter.from_pattern(p).matches for p in patterns)
            match = tests[0] if len(tests) == 1 else (lambda r: any(t(r) for t in tests))
        object.__setattr__(self, "_compiled", match)
        return match

    def _walk(self, record: object) -> bool:
        """Evaluate by walking the expression tree (what :meth:`matches` falls back to)."""
        return self._eval(_lambda_record(record))

    def _eval(self, record: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def _atomic(self) -> bool:
        return True

    @overload
    def __and__(self, other: Expression) -> Expression: ...
    @overload
    def __and__(self, other: LocalPredicate) -> LocalPredicate: ...
    def __and__(self, other: Expression | LocalPredicate) -> Expression | LocalPredicate:
        if isinstance(other, LocalPredicate):
            return _LocalAll(_flat(_LocalAll, (self, other)))
        if not isinstance(other, Expression):
            return NotImplemented
        return _AllOf(_flat(_AllOf, (self, other)))

    @overload
    def __or__(self, other: Expression) -> Expression: ...
    @overload
    def __or__(self, other: LocalPredicate) -> LocalPredicate: ...
    def __or__(self, other: Expression | LocalPredicate) -> Expression | LocalPredicate:
        if isinstance(other, LocalPredicate):
            return _LocalAny(_flat(_LocalAny, (self, other)))
        if not isinstance(other, Expression):
            return NotImplemented
        return _AnyOf(_flat(_AnyOf, (self, other)))

    def __invert__(self) -> Expression:
        return _Negation(self)

    def __bool__(self) -> bool:
        raise UsageError(
            f"{self!r} has no truth value; combine expressions with &, | and ~ "
            "(not and/or/not, and not chained comparisons like 1 < x < 5)"
        )

    def to_patterns(self, *, max_filters: int = 5) -> list[dict[str, Any]]:
        """Compile to the fewest Lambda filter patterns (see :func:`compile_filters`)."""
        from ._compile import compile_filters

        return compile_filters(self, max_filters=max_filters)

    def to_criteria(self, *, max_filters: int = 5) -> FilterCriteria:
        """Compile to a :class:`FilterCriteria` of the fewest filters (see :func:`to_criteria`)."""
        from ._compile import to_criteria

        return to_criteria(self, max_filters=max_filters)


@dataclass(frozen=True, slots=True)
class _Leaf(Expression):
    field: Field
    cond: Cond
    text: str
    call: bool = False

    def _eval(self, record: Mapping[str, Any]) -> bool:
        return self.field.test(self.cond, record)

    def _atomic(self) -> bool:
        return self.call

    def __repr__(self) -> str:
        return self.text


def _wrap(expr: object, inside: type) -> str:
    """Parenthesize where Python's precedence needs it (``==`` binds looser than ``&``)."""
    if isinstance(expr, _Leaf):
        needs = not expr.call
    elif inside is _Negation or inside is _LocalNot:
        needs = not getattr(expr, "_atomic", lambda: True)()
    elif inside is _AnyOf or inside is _LocalAny:
        needs = False
    else:
        needs = isinstance(expr, (_AnyOf, _LocalAny))
    return f"({expr!r})" if needs else repr(expr)


@dataclass(frozen=True, slots=True)
class _AllOf(Expression):
    children: tuple[Expression, ...]
    name: str | None = None

    def _eval(self, record: Mapping[str, Any]) -> bool:
        return all(child._eval(record) for child in self.children)

    def _atomic(self) -> bool:
        return self.name is not None

    def __repr__(self) -> str:
        return self.name or " & ".join(_wrap(c, _AllOf) for c in self.children)


@dataclass(frozen=True, slots=True)
class _AnyOf(Expression):
    children: tuple[Expression, ...]

    def _eval(self, record: Mapping[str, Any]) -> bool:
        return any(child._eval(record) for child in self.children)

    def _atomic(self) -> bool:
        return False

    def __repr__(self) -> str:
        return " | ".join(_wrap(c, _AnyOf) for c in self.children)


@dataclass(frozen=True, slots=True)
class _Negation(Expression):
    child: Expression

    def _eval(self, record: Mapping[str, Any]) -> bool:
        return not self.child._eval(record)

    def __invert__(self) -> Expression:
        return self.child

    def __repr__(self) -> str:
        return "~" + _wrap(self.child, _Negation)


def _flat(kind: type, items: Iterable[object]) -> tuple[Any, ...]:
    """Flatten nested combinations of the same kind (named ones such as ttl_delete() stay)."""
    out: list[Any] = []
    for item in items:
        if type(item) is kind and getattr(item, "name", None) is None:
            out.extend(item.children)  # type: ignore[attr-defined]
        else:
            out.append(item)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Local-only predicates
# ---------------------------------------------------------------------------------------------


class LocalPredicate:
    """A predicate only Python can evaluate (for the router), never a Lambda filter.

    ``changed()`` and ``where()`` build them; ``&``, ``|`` and ``~`` with an
    :class:`Expression` keep the result local. ``compile_filters`` and ``FilterCriteria``
    refuse them (a type error for mypy, :class:`FilterNotExpressible` at runtime).

    Example:
        >>> from ddbstream.filters import changed, event_name
        >>> from ddbstream.filters import LocalPredicate
        >>> pred = (event_name == "MODIFY") & changed("status")
        >>> isinstance(pred, LocalPredicate), hasattr(pred, "to_criteria")
        (True, False)
    """

    __slots__ = ()

    def matches(self, record: object) -> bool:
        """Evaluate on a raw Lambda record dict or a StreamRecord."""
        return self._eval(_lambda_record(record))

    def _eval(self, record: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def _atomic(self) -> bool:
        return True

    def __and__(self, other: Expression | LocalPredicate) -> LocalPredicate:
        if not isinstance(other, (Expression, LocalPredicate)):
            return NotImplemented
        return _LocalAll(_flat(_LocalAll, (self, other)))

    def __rand__(self, other: Expression | LocalPredicate) -> LocalPredicate:
        if not isinstance(other, (Expression, LocalPredicate)):
            return NotImplemented
        return _LocalAll(_flat(_LocalAll, (other, self)))

    def __or__(self, other: Expression | LocalPredicate) -> LocalPredicate:
        if not isinstance(other, (Expression, LocalPredicate)):
            return NotImplemented
        return _LocalAny(_flat(_LocalAny, (self, other)))

    def __ror__(self, other: Expression | LocalPredicate) -> LocalPredicate:
        if not isinstance(other, (Expression, LocalPredicate)):
            return NotImplemented
        return _LocalAny(_flat(_LocalAny, (other, self)))

    def __invert__(self) -> LocalPredicate:
        return _LocalNot(self)

    def __bool__(self) -> bool:
        raise UsageError(f"{self!r} has no truth value; combine predicates with &, | and ~")


@dataclass(frozen=True, slots=True)
class _Changed(LocalPredicate):
    attribute: str

    def _eval(self, record: Mapping[str, Any]) -> bool:
        ddb = record.get("dynamodb")
        ddb = ddb if isinstance(ddb, Mapping) else {}
        new, old = ddb.get("NewImage"), ddb.get("OldImage")
        name = record.get("eventName")
        if name == "INSERT" and isinstance(new, Mapping):
            return self.attribute in new
        if name == "REMOVE" and isinstance(old, Mapping):
            return self.attribute in old
        if not isinstance(new, Mapping) or not isinstance(old, Mapping):
            raise UsageError(
                f"{self!r} needs both images on a {name}: enable the NEW_AND_OLD_IMAGES "
                "stream view type"
            )
        a, b = new.get(self.attribute), old.get(self.attribute)
        if a is None or b is None:
            return (a is None) != (b is None)
        from .._codec import deserialize

        return bool(a != b and deserialize(a) != deserialize(b))

    def __repr__(self) -> str:
        return f"changed({self.attribute!r})"


@dataclass(frozen=True, slots=True)
class _Where(LocalPredicate):
    predicate: Callable[[Any], bool]

    def _eval(self, record: Mapping[str, Any]) -> bool:
        from .._records import StreamEvent

        parsed = StreamEvent.from_lambda({"Records": [record]}).records[0]
        return bool(self.predicate(parsed))

    def __repr__(self) -> str:
        name = getattr(self.predicate, "__qualname__", repr(self.predicate))
        return f"where({name})"


@dataclass(frozen=True, slots=True)
class _LocalAll(LocalPredicate):
    children: tuple[Expression | LocalPredicate, ...]

    def _eval(self, record: Mapping[str, Any]) -> bool:
        return all(child._eval(record) for child in self.children)

    def _atomic(self) -> bool:
        return False

    def __repr__(self) -> str:
        return " & ".join(_wrap(c, _LocalAll) for c in self.children)


@dataclass(frozen=True, slots=True)
class _LocalAny(LocalPredicate):
    children: tuple[Expression | LocalPredicate, ...]

    def _eval(self, record: Mapping[str, Any]) -> bool:
        return any(child._eval(record) for child in self.children)

    def _atomic(self) -> bool:
        return False

    def __repr__(self) -> str:
        return " | ".join(_wrap(c, _LocalAny) for c in self.children)


@dataclass(frozen=True, slots=True)
class _LocalNot(LocalPredicate):
    child: LocalPredicate

    def _eval(self, record: Mapping[str, Any]) -> bool:
        return not self.child._eval(record)

    def __repr__(self) -> str:
        return "~" + _wrap(self.child, _LocalNot)


def changed(attribute: str) -> LocalPredicate:
    """A local predicate: ``attribute`` differs between the old and the new image.

    Lambda cannot compare two images, so this only runs in Python (for a router). An INSERT
    changes every attribute of its new image, a REMOVE every attribute of its old image.

    Raises:
        UsageError: (when evaluated) a MODIFY without both images.

    Example:
        >>> from ddbstream.filters import changed
        >>> changed("status").matches({"eventName": "MODIFY", "dynamodb": {
        ...     "Keys": {"pk": {"S": "a"}}, "SequenceNumber": "1",
        ...     "NewImage": {"status": {"S": "B"}}, "OldImage": {"status": {"S": "A"}}}})
        True
    """
    if not isinstance(attribute, str):
        raise UsageError(f"changed() takes an attribute name, got {type(attribute).__name__}")
    return _Changed(attribute)


def where(predicate: Callable[[Any], bool]) -> LocalPredicate:
    """A local predicate from a function of the :class:`StreamRecord` (router-only).

    Example:
        >>> from ddbstream.filters import where
        >>> big = where(lambda r: r.new_image["amount"] > 100)
        >>> big.matches({"eventName": "INSERT", "dynamodb": {
        ...     "Keys": {"pk": {"S": "a"}}, "SequenceNumber": "1",
        ...     "NewImage": {"amount": {"N": "250"}}}})
        True
    """
    if not callable(predicate):
        raise UsageError(f"where() takes a callable, got {type(predicate).__name__}")
    return _Where(predicate)


# ---------------------------------------------------------------------------------------------
# Operands
# ---------------------------------------------------------------------------------------------


def canonical_number(value: int | float | Decimal) -> str:
    """The text DynamoDB stores for a number (leading and trailing zeros trimmed, no exponent).

    Lambda compares N values as strings, so a filter must use exactly this text.

    Example:
        >>> from decimal import Decimal
        >>> canonical_number(Decimal("12.50")), canonical_number(100), canonical_number(-0.0)
        ('12.5', '100', '0')
    """
    number = _as_number(value)
    if number is None:
        raise FilterNotExpressible(f"{value!r} is not a finite number")
    if not number:
        return "0"
    from .._codec import EncodeError, serialize

    try:
        serialize(number)
    except EncodeError as exc:
        raise FilterNotExpressible(
            f"{value!r} cannot be stored in DynamoDB: {exc.reason}"
        ) from None
    return format(number.normalize(), "f")


_PY_DESCRIPTORS = {"S": "str", "N": "number", "B": "bytes", "BOOL": "bool", "NULL": "None"}


def _operand_type(value: object) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, str):
        return "S"
    if isinstance(value, (int, float, Decimal)):
        return "N"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "B"
    if value is None:
        raise FilterNotExpressible(
            "None is not a value a filter can compare; use .null() for a DynamoDB NULL "
            "or .not_exists() for a missing attribute"
        )
    raise FilterNotExpressible(
        f"cannot compare an attribute with a {type(value).__name__}; "
        "use str, int, Decimal, float, bool or bytes"
    )


def _encode(value: object, descriptor: str) -> Scalar:
    if isinstance(value, enum.Enum):
        value = value.value
    if descriptor == "S":
        return str(value)
    if descriptor == "N":
        if isinstance(value, str):
            return canonical_number(Decimal(value)) if _is_number_text(value) else value
        return canonical_number(value)  # type: ignore[arg-type]
    if descriptor == "B":
        if isinstance(value, (bytes, bytearray, memoryview)):
            return base64.b64encode(bytes(value)).decode("ascii")
        return str(value)
    return bool(value)


def _is_number_text(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------

_LEAF_DESCRIPTORS = ("S", "N", "B", "BOOL", "NULL")
_SETS = ("SS", "NS", "BS")
_NON_SCALAR = ("M", "L", *_SETS)
_SECTIONS = {"Keys": "keys", "NewImage": "new_image", "OldImage": "old_image"}


class Attribute:
    """An attribute of the Keys, NewImage or OldImage of a record (built by :func:`new_image`).

    The comparison picks the DynamoDB type descriptor from the operand (``str`` -> ``S``,
    numbers -> ``N`` in DynamoDB's canonical text, ``bool`` -> ``BOOL``, ``bytes`` -> ``B``),
    unless the attribute is typed (``descriptor=`` or :func:`typed`). Numeric comparisons are
    refused: Lambda sees N values as strings.

    Example:
        >>> from ddbstream.filters import new_image
        >>> (new_image("status") == "SHIPPED").to_patterns()
        [{'dynamodb': {'NewImage': {'status': {'S': ['SHIPPED']}}}}]
    """

    __slots__ = ("_descriptor", "_names", "_section", "_text", "_type")
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        section: str,
        names: tuple[str, ...],
        *,
        descriptor: str | None = None,
        type_info: TypeInfo | None = None,
        text: str | None = None,
    ) -> None:
        if section not in _SECTIONS:
            raise UsageError(f"{section=} is not one of {sorted(_SECTIONS)}")
        for name in names:
            if not isinstance(name, str) or not name:
                raise UsageError(f"an attribute name must be a non-empty string, got {name!r}")
        if descriptor is not None and descriptor not in (*_LEAF_DESCRIPTORS, *_NON_SCALAR):
            raise UsageError(f"{descriptor=} is not a DynamoDB scalar type descriptor")
        if section == "Keys" and descriptor not in (None, "S", "N", "B"):
            raise FilterNotExpressible(f"key attributes are S, N or B, not {descriptor}")
        self._section = section
        self._names = names
        self._descriptor = descriptor
        self._type = type_info
        if text is None:
            top = descriptor if len(names) == 1 else None
            text = f"{_SECTIONS[section]}({names[0]!r}"
            text += f", descriptor={top!r})" if top else ")"
            text += "".join(f"[{n!r}]" for n in names[1:])
            if descriptor and not top:
                text += f".with_descriptor({descriptor!r})"
        self._text = text

    def __repr__(self) -> str:
        return self._text

    # -- navigation --------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Attribute:
        """The attribute ``name`` inside this map (M) attribute."""
        if self._descriptor not in (None, "M"):
            raise FilterNotExpressible(f"{self!r} is {self._descriptor}, not a map (M)")
        if self._section == "Keys":
            raise FilterNotExpressible("key attributes are scalars (S, N or B), not maps")
        child: TypeInfo | None = None
        if self._type is not None:
            child = self._type.child(name, where=repr(self))
            name = self._type.attribute_name(name)
        return Attribute(
            self._section,
            (*self._names, name),
            descriptor=child.descriptor if child else None,
            type_info=child,
            text=f"{self._text}[{name!r}]",
        )

    def with_descriptor(self, descriptor: str) -> Attribute:
        """The same attribute with its DynamoDB type fixed (``"S"``, ``"N"``, ``"BOOL"``...).

        Needed for ``exists()`` / ``not_exists()`` on an untyped attribute, and to compare the
        text of an N value (``begins_with`` on ``"N"``).
        """
        return Attribute(
            self._section,
            self._names,
            descriptor=descriptor,
            text=f"{self._text}.with_descriptor({descriptor!r})",
        )

    def __getattr__(self, name: str) -> Attribute:
        if name.startswith("_") or object.__getattribute__(self, "_type") is None:
            raise AttributeError(name)
        return self[name]

    # -- conditions --------------------------------------------------------------------------

    def _field(self, *tail: str) -> Field:
        path: list[str] = ["dynamodb", self._section, self._names[0]]
        for name in self._names[1:]:
            path += ["M", name]
        kind: Kind = {"BOOL": "bool", "NULL": "true"}.get(tail[-1], "str")  # type: ignore[assignment]
        return Field((*path, *tail), kind, multi=tail[0] in (*_SETS, "L"))

    def _resolve(self, values: tuple[object, ...], op: str) -> str:
        if not values:
            raise UsageError(f"{self!r}.{op}() needs at least one value")
        found = {_operand_type(v) for v in values}
        if self._descriptor in _NON_SCALAR:
            what = "a set" if self._descriptor in _SETS else "a non-leaf"
            raise FilterNotExpressible(
                f"{self!r} is {self._descriptor}, {what}: the DSL compares scalar attributes "
                "(use exists()/not_exists() on sets, or a router predicate)"
            )
        if len(found) > 1:
            raise FilterNotExpressible(
                f"{self!r}.{op}() mixes value types {sorted(found)}; an attribute holds one "
                "DynamoDB type, so combine typed conditions with | if you really mean several"
            )
        got = found.pop()
        want = self._descriptor or got
        if got != want and not (
            want == "N" and got == "S" and all(_is_number_text(str(v)) for v in values)
        ):
            raise FilterNotExpressible(
                f"{self!r} holds {want} values; {op}() with a {_PY_DESCRIPTORS[got]} operand "
                "can never match"
            )
        if self._section == "Keys" and want not in ("S", "N", "B"):
            raise FilterNotExpressible(f"key attributes are S, N or B, never {want}")
        return want

    def _leaf(self, descriptor: str, atoms: Iterable[_Atom], text: str) -> Expression:
        field = self._field(*descriptor.split("."))
        return _Leaf(field, normalize(atoms, field), f"{self._text}{text}", True)

    def is_in(self, *values: object) -> Expression:
        """Equal to any of ``values`` (one value list; all of one type)."""
        d = self._resolve(values, "is_in")
        atoms = [_Eq(_encode(v, d)) for v in values]
        args = ", ".join(map(repr, values))
        return self._leaf(d, atoms, f".is_in({args})")

    def equals(self, value: object) -> Expression:
        """Equal to ``value`` (same as ``==``)."""
        d = self._resolve((value,), "equals")
        leaf = self._leaf(d, [_Eq(_encode(value, d))], "")
        return _with_text(leaf, f"{self._text} == {value!r}", call=False)

    def __eq__(self, value: object) -> Expression:  # type: ignore[override]
        return self.equals(value)

    def not_equals(self, value: object) -> Expression:
        """``~(attr == value)``: also true when the attribute is missing (unlike anything_but)."""
        return ~self.equals(value)

    def __ne__(self, value: object) -> Expression:  # type: ignore[override]
        return self.not_equals(value)

    def anything_but(self, *values: object) -> Expression:
        """Present and equal to none of ``values`` (Lambda's ``anything-but``).

        Unlike ``!=`` it never matches a record without the attribute (AWS semantics).
        """
        d = self._resolve(values, "anything_but")
        if d not in ("S", "N", "B"):
            raise FilterNotExpressible(
                f"anything-but takes strings or numbers; for {d} use ~(attr == value)"
            )
        atom = _AnythingBut(frozenset(_encode(v, d) for v in values))
        return self._leaf(d, [atom], f".anything_but({', '.join(map(repr, values))})")

    def _text_op(self, op: str, text: object, atom: type[_Atom]) -> Expression:
        if not isinstance(text, str):
            raise FilterNotExpressible(f"{op}() takes a string, got {type(text).__name__}")
        d = self._descriptor or "S"
        if d not in ("S", "N", "B"):
            raise FilterNotExpressible(f"{op}() never matches {self!r}: it holds {d}, not text")
        return self._leaf(d, [atom(text)], f".{op}({text!r})")  # type: ignore[call-arg]

    def begins_with(self, prefix: str) -> Expression:
        """The string value starts with ``prefix`` (Lambda ``prefix``)."""
        return self._text_op("begins_with", prefix, _Prefix)

    def ends_with(self, suffix: str) -> Expression:
        """The string value ends with ``suffix`` (Lambda ``suffix``)."""
        return self._text_op("ends_with", suffix, _Suffix)

    def equals_ignore_case(self, text: str) -> Expression:
        """Equal to ``text`` ignoring case (Lambda ``equals-ignore-case``)."""
        return self._text_op("equals_ignore_case", text, _IgnoreCase)

    def contains(self, *values: object) -> Expression:
        """A set (SS/NS/BS) or list (L) attribute holds at least one of ``values``.

        Lambda tests every element of an array, so this is an OR over elements; ``~contains``
        and the AND of two ``contains`` on one attribute cannot be expressed.
        """
        if self._descriptor not in (*_SETS, "L"):
            raise FilterNotExpressible(
                f"{self!r}.contains() needs a set or list attribute: "
                f"{_SECTIONS[self._section]}({self._names[0]!r}, descriptor='SS') (or NS, BS, L)"
            )
        if not values:
            raise UsageError(f"{self!r}.contains() needs at least one value")
        found = {_operand_type(v) for v in values}
        if len(found) > 1:
            raise FilterNotExpressible(f"{self!r}.contains() mixes value types {sorted(found)}")
        element = found.pop() if self._descriptor == "L" else self._descriptor[0]
        for value in values:
            if _operand_type(value) != element and not (
                element == "N" and isinstance(value, str) and _is_number_text(value)
            ):
                raise FilterNotExpressible(
                    f"{self!r} holds {element} elements; {value!r} can never match"
                )
        atoms = [_Eq(_encode(v, element)) for v in values]
        tail = f"L.{element}" if self._descriptor == "L" else self._descriptor
        return self._leaf(tail, atoms, f".contains({', '.join(map(repr, values))})")

    def _exists_descriptor(self, op: str) -> str:
        if self._descriptor in _LEAF_DESCRIPTORS or self._descriptor in _SETS:
            return self._descriptor
        if self._descriptor is None:
            raise FilterNotExpressible(
                f"{self!r}.{op}() needs the attribute's type: Lambda's exists only works on "
                f"the leaf under the type descriptor, e.g. "
                f"{_SECTIONS[self._section]}({self._names[0]!r}, descriptor='S').{op}()"
            )
        raise FilterNotExpressible(
            f"{self!r} is a {self._descriptor} (non-leaf); Lambda's exists never matches it"
        )

    def exists(self) -> Expression:
        """The attribute is present with its type (``{"S": [{"exists": true}]}``)."""
        return self._leaf(self._exists_descriptor("exists"), [PRESENT], ".exists()")

    def not_exists(self) -> Expression:
        """The attribute is missing, or not of its type (``{"S": [{"exists": false}]}``)."""
        return self._leaf(self._exists_descriptor("not_exists"), [ABSENT], ".not_exists()")

    def null(self) -> Expression:
        """The attribute is a DynamoDB NULL (``{"NULL": [true]}``; Lambda's ``[null]`` never is)."""
        if self._descriptor not in (None, "NULL") or self._section == "Keys":
            raise FilterNotExpressible(f"{self!r} holds {self._descriptor}, never NULL")
        return self._leaf("NULL", [_Eq(True)], ".null()")

    def empty(self) -> Expression:
        """The attribute is the empty string (``{"S": [""]}``)."""
        if self._descriptor not in (None, "S"):
            raise FilterNotExpressible(f"{self!r} holds {self._descriptor}, never an empty string")
        return self._leaf("S", [_Eq("")], ".empty()")

    def _numeric(self, op: str, value: object) -> Expression:
        raise FilterNotExpressible(
            f"{self!r} {op} {value!r}: Lambda cannot compare DynamoDB numbers: it compares N "
            f"values as strings (numeric filters never match them); {_ROUTER_HINT}"
        )

    def __lt__(self, value: object) -> Expression:
        return self._numeric("<", value)

    def __le__(self, value: object) -> Expression:
        return self._numeric("<=", value)

    def __gt__(self, value: object) -> Expression:
        return self._numeric(">", value)

    def __ge__(self, value: object) -> Expression:
        return self._numeric(">=", value)

    def between(self, low: object, high: object) -> Expression:
        """Always refused on image attributes (Lambda compares N values as strings)."""
        return self._numeric("between", (low, high))


def _with_text(leaf: Expression, text: str, *, call: bool) -> Expression:
    assert isinstance(leaf, _Leaf)
    return _Leaf(leaf.field, leaf.cond, text, call)


def _attribute(section: str, name: str, descriptor: str | None) -> Attribute:
    if not isinstance(name, str) or not name:
        raise UsageError(f"an attribute name must be a non-empty string, got {name!r}")
    return Attribute(section, (name,), descriptor=descriptor)


def new_image(name: str, *, descriptor: str | None = None) -> Attribute:
    """An attribute of ``dynamodb.NewImage`` (absent on REMOVE and with KEYS_ONLY/OLD_IMAGE)."""
    return _attribute("NewImage", name, descriptor)


def old_image(name: str, *, descriptor: str | None = None) -> Attribute:
    """An attribute of ``dynamodb.OldImage`` (absent on INSERT and with KEYS_ONLY/NEW_IMAGE)."""
    return _attribute("OldImage", name, descriptor)


def keys(name: str, *, descriptor: str | None = None) -> Attribute:
    """A key attribute (``dynamodb.Keys``), present on every record of every view type."""
    return _attribute("Keys", name, descriptor)


class RecordField:
    """A metadata field of the record: :data:`event_name`, :data:`size_bytes`,
    :data:`approximate_creation_time`.

    ``size_bytes`` and ``approximate_creation_time`` are JSON numbers in the record, so they
    (and only they) take ``<``, ``<=``, ``>``, ``>=`` and :meth:`between`.

    Example:
        >>> from ddbstream.filters import event_name, size_bytes
        >>> ((event_name != "REMOVE") & (size_bytes < 1000)).to_patterns()
        ... # doctest: +NORMALIZE_WHITESPACE
        [{'eventName': [{'anything-but': ['REMOVE']}],
          'dynamodb': {'SizeBytes': [{'numeric': ['<', 1000]}]}}]
    """

    __slots__ = ("_choices", "_field", "_name")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, name: str, field: Field, choices: frozenset[str] | None = None) -> None:
        self._name = name
        self._field = field
        self._choices = choices

    def __repr__(self) -> str:
        return self._name

    def _value(self, value: object) -> Scalar:
        if isinstance(value, enum.Enum):
            value = value.value
        if self._field.kind == "num":
            if isinstance(value, _dt.datetime):
                if value.tzinfo is None:
                    raise FilterNotExpressible(
                        f"{self._name} compares with an aware datetime (UTC); got a naive one"
                    )
                value = Decimal(repr(value.timestamp()))
            number = _as_number(value)
            if number is None:
                raise FilterNotExpressible(
                    f"{self._name} is a JSON number; compare it with a number, got {value!r}"
                )
            return number
        if not isinstance(value, str):
            raise FilterNotExpressible(
                f"{self._name} is a string; comparing it with {value!r} can never match"
            )
        if self._choices is not None and value not in self._choices:
            raise FilterNotExpressible(
                f"{self._name} is one of {sorted(self._choices)}; {value!r} can never match"
            )
        return value

    def _leaf(self, atoms: Iterable[_Atom], text: str, call: bool = True) -> Expression:
        field = self._field
        return _Leaf(field, normalize(atoms, field), text, call)

    def is_in(self, *values: object) -> Expression:
        """Equal to any of ``values``."""
        if not values:
            raise UsageError(f"{self._name}.is_in() needs at least one value")
        atoms = [self._eq(self._value(v)) for v in values]
        return self._leaf(atoms, f"{self._name}.is_in({', '.join(map(repr, values))})")

    def _eq(self, value: Scalar) -> _Atom:
        if isinstance(value, Decimal):
            return _Range(value, True, value, True)
        return _Eq(value)

    def equals(self, value: object) -> Expression:
        """Equal to ``value`` (same as ``==``)."""
        return self._leaf([self._eq(self._value(value))], f"{self._name} == {value!r}", False)

    def __eq__(self, value: object) -> Expression:  # type: ignore[override]
        return self.equals(value)

    def not_equals(self, value: object) -> Expression:
        """``~(field == value)``."""
        return ~self.equals(value)

    def __ne__(self, value: object) -> Expression:  # type: ignore[override]
        return self.not_equals(value)

    def anything_but(self, *values: object) -> Expression:
        """Present and equal to none of ``values`` (Lambda's ``anything-but``)."""
        if not values:
            raise UsageError(f"{self._name}.anything_but() needs at least one value")
        atom = _AnythingBut(frozenset(self._value(v) for v in values))
        return self._leaf([atom], f"{self._name}.anything_but({', '.join(map(repr, values))})")

    def _text_op(self, op: str, text: object, atom: type[_Atom]) -> Expression:
        if self._field.kind != "str" or not isinstance(text, str):
            raise FilterNotExpressible(f"{self._name}.{op}() needs a string field and operand")
        return self._leaf([atom(text)], f"{self._name}.{op}({text!r})")  # type: ignore[call-arg]

    def begins_with(self, prefix: str) -> Expression:
        """Starts with ``prefix``."""
        return self._text_op("begins_with", prefix, _Prefix)

    def ends_with(self, suffix: str) -> Expression:
        """Ends with ``suffix``."""
        return self._text_op("ends_with", suffix, _Suffix)

    def equals_ignore_case(self, text: str) -> Expression:
        """Equal to ``text`` ignoring case."""
        return self._text_op("equals_ignore_case", text, _IgnoreCase)

    def exists(self) -> Expression:
        """The field is present."""
        return self._leaf([PRESENT], f"{self._name}.exists()")

    def not_exists(self) -> Expression:
        """The field is missing."""
        return self._leaf([ABSENT], f"{self._name}.not_exists()")

    def _bound(self, op: str, value: object) -> Decimal:
        if self._field.kind != "num":
            raise FilterNotExpressible(
                f"{self._name} is a string; {op} needs a number field "
                "(size_bytes, approximate_creation_time)"
            )
        bound = self._value(value)
        assert isinstance(bound, Decimal)
        return bound

    def _range(self, op: str, atom: _Range, value: object) -> Expression:
        return self._leaf([atom], f"{self._name} {op} {value!r}", False)

    def __lt__(self, value: object) -> Expression:
        return self._range("<", _Range(None, False, self._bound("<", value), False), value)

    def __le__(self, value: object) -> Expression:
        return self._range("<=", _Range(None, False, self._bound("<=", value), True), value)

    def __gt__(self, value: object) -> Expression:
        return self._range(">", _Range(self._bound(">", value), False, None, False), value)

    def __ge__(self, value: object) -> Expression:
        return self._range(">=", _Range(self._bound(">=", value), True, None, False), value)

    def between(self, low: object, high: object) -> Expression:
        """``low <= field <= high`` (inclusive at both ends, unlike CDK's ``between``)."""
        lo, hi = self._bound("between", low), self._bound("between", high)
        atom = _Range(lo, True, hi, True)
        if atom.empty():
            raise FilterNotExpressible(f"{self._name}.between({low!r}, {high!r}) is empty")
        return self._leaf([atom], f"{self._name}.between({low!r}, {high!r})")


#: ``eventName``: INSERT, MODIFY or REMOVE; present on every record.
_EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})
event_name = RecordField(
    "event_name", Field(("eventName",), "str", True, _EVENT_NAMES), _EVENT_NAMES
)
#: ``dynamodb.ApproximateCreationDateTime`` (epoch seconds, a JSON number; takes datetimes).
approximate_creation_time = RecordField(
    "approximate_creation_time", Field(("dynamodb", "ApproximateCreationDateTime"), "num")
)
#: ``dynamodb.SizeBytes`` (a JSON number).
size_bytes = RecordField("size_bytes", Field(("dynamodb", "SizeBytes"), "num"))

_TTL_TYPE = Field(("userIdentity", "type"), "str")
_TTL_PRINCIPAL = Field(("userIdentity", "principalId"), "str")


def ttl_delete() -> Expression:
    """Records of items that DynamoDB's Time to Live deleted (``userIdentity`` is the service).

    ``~ttl_delete()`` keeps every other record (application deletes, inserts, modifies).

    Example:
        >>> from ddbstream.filters import ttl_delete
        >>> ttl_delete().to_patterns()
        [{'userIdentity': {'type': ['Service'], 'principalId': ['dynamodb.amazonaws.com']}}]
    """
    return _AllOf(
        (
            _Leaf(_TTL_TYPE, frozenset({_Eq("Service")}), "ttl_delete().type"),
            _Leaf(_TTL_PRINCIPAL, frozenset({_Eq("dynamodb.amazonaws.com")}), "ttl_delete().pid"),
        ),
        name="ttl_delete()",
    )
