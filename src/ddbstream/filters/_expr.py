"""Expressions (what Lambda can evaluate) and local predicates (what only Python can).

An :class:`Expression` is built by the builders in ``_attribute`` and ``_record_fields`` and
combined with ``&``, ``|`` and ``~``; it evaluates locally (``matches``) and compiles
(``to_patterns()`` / ``to_criteria()``). A :class:`LocalPredicate` (``changed()``, ``where()``,
or any combination with one) only has ``matches``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from .._errors import FilterNotExpressible, UsageError
from ._atoms import Cond, Field

if TYPE_CHECKING:
    from ._criteria import FilterCriteria

__all__ = ["Expression", "LocalPredicate", "changed", "where"]


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
        from .._event import StreamEvent

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


class _EqualityOperators:
    """``==`` and ``!=`` on a field builder build expressions (through ``equals``) instead of
    comparing builders, so builders are unhashable."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def equals(self, value: object) -> Expression:
        raise NotImplementedError

    def __eq__(self, value: object) -> Expression:  # type: ignore[override]
        return self.equals(value)

    def not_equals(self, value: object) -> Expression:
        """``~(field == value)``: also true when the field is missing (unlike anything_but)."""
        return ~self.equals(value)

    def __ne__(self, value: object) -> Expression:  # type: ignore[override]
        return self.not_equals(value)
