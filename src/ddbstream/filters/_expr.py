"""The one boolean tree of the filter DSL, and its two faces: Expression and LocalPredicate.

Every condition is a tree of nodes: :class:`Leaf` (a condition on one field of the record),
:class:`AllOf` (``&``), :class:`AnyOf` (``|``), :class:`Not` (``~``), and the two leaves only
Python can evaluate, :class:`Changed` and :class:`Where`. The compiler reads the same nodes (and
writes its negation normal form with them). Users hold the tree through one of two types:

- an :class:`Expression` holds no local leaf: Lambda can evaluate it, it compiles
  (``to_patterns()``, ``to_criteria()``);
- a :class:`LocalPredicate` holds one: only Python can evaluate it (a router, a handler).

Both evaluate locally (``matches``); mypy tells them apart, so a local predicate cannot be
passed where Lambda criteria are required.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Union, cast, overload

from .._errors import LimitExceeded, UsageError
from ._atoms import Atoms, Field
from ._local import Changed, Where
from ._record import lambda_mapping

if TYPE_CHECKING:
    from ._criteria import FilterCriteria

__all__ = [
    "MAX_DEPTH",
    "AllOf",
    "AnyOf",
    "Changed",
    "Expression",
    "Leaf",
    "LocalPredicate",
    "Node",
    "Not",
    "Where",
    "changed",
    "evaluate",
    "expression",
    "flatten",
    "node_of",
    "where",
]

#: How deeply ``&``, ``|`` and ``~`` may nest (flattened chains of one operator count once):
#: every walk of the tree stays far from Python's recursion limit.
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Leaf:
    """A condition on one field; ``text`` is its Python spelling (``call``: a method call)."""

    field: Field
    atoms: Atoms
    text: str = dataclasses.field(default="", compare=False)
    call: bool = dataclasses.field(default=False, compare=False)

    def __repr__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class AllOf:
    """All of ``children`` (``&``); empty, it is true. ``name`` spells a named combination
    such as ``ttl_delete()``."""

    children: tuple[Node, ...]
    name: str | None = None

    def __repr__(self) -> str:
        return self.name or " & ".join(_wrap(c, AllOf) for c in self.children)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """One of ``children`` (``|``); empty, it is false."""

    children: tuple[Node, ...]

    def __repr__(self) -> str:
        return " | ".join(_wrap(c, AnyOf) for c in self.children)


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def __repr__(self) -> str:
        return "~" + _wrap(self.child, Not)


Node = Union[Leaf, AllOf, AnyOf, Not, Changed, Where]  # noqa: UP007 - runtime alias on 3.10


def _atomic(node: Node) -> bool:
    """Whether ``repr(node)`` reads as one term (a call, a name)."""
    if isinstance(node, Leaf):
        return node.call
    if isinstance(node, AllOf):
        return node.name is not None
    return not isinstance(node, AnyOf)


def _wrap(node: Node, inside: type) -> str:
    """Parenthesize where Python's precedence needs it (``==`` binds looser than ``&``)."""
    if isinstance(node, Leaf):
        needs = not node.call
    elif inside is Not:
        needs = not _atomic(node)
    elif inside is AnyOf:
        needs = False
    else:
        needs = isinstance(node, AnyOf)
    return f"({node!r})" if needs else repr(node)


def flatten(
    kind: type[AllOf | AnyOf], items: Iterable[Node], *, named: bool = False
) -> tuple[Node, ...]:
    """The children of ``kind`` over ``items``, nested ones of the same kind spliced in (named
    combinations such as ``ttl_delete()`` stay whole unless ``named``)."""
    out: list[Node] = []
    for item in items:
        if isinstance(item, kind) and (named or getattr(item, "name", None) is None):
            out.extend(item.children)
        else:
            out.append(item)
    return tuple(out)


def evaluate(node: Node, record: Mapping[str, Any]) -> bool:
    """Evaluate the tree on a Lambda record, with Lambda's semantics for its leaves."""
    if isinstance(node, Leaf):
        return node.field.test(node.atoms, record)
    if isinstance(node, AllOf):
        return all(evaluate(child, record) for child in node.children)
    if isinstance(node, AnyOf):
        return any(evaluate(child, record) for child in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, record)
    return node.evaluate(record)  # Changed, Where


_upper: list[ModuleType] = []


def _criteria() -> ModuleType:
    """The ``_criteria`` module, imported on first use."""
    if not _upper:
        # The one late import of the DSL: compiling (to_patterns, to_criteria) and the
        # compiled matcher behind Expression.matches live in _criteria, above this module in
        # the flow expressions -> compiler -> pattern -> evaluator -> criteria.
        from . import _criteria

        _upper.append(_criteria)
    return _upper[0]


class _Predicate:
    """What both faces share: the tree, its depth, value equality, repr, no truth value."""

    __slots__ = ("__weakref__", "_depth", "_hash", "_node")

    def __init__(self, node: Node, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise LimitExceeded(
                f"conditions nest &, | and ~ more than {MAX_DEPTH} levels deep; flatten them "
                "(a & b & c is one level)"
            )
        self._node = node
        self._depth = depth
        self._hash: int | None = None

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._node == other._node)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.__class__, self._node))
        return self._hash

    def __repr__(self) -> str:
        return repr(self._node)

    def __bool__(self) -> bool:
        raise UsageError(
            f"{self!r} has no truth value; combine conditions with &, | and ~ "
            "(not and/or/not, and not chained comparisons like 1 < x < 5)"
        )

    def _walk(self, record: object) -> bool:
        """Evaluate by walking the tree (what ``matches`` falls back to when not compiled)."""
        return evaluate(self._node, lambda_mapping(record))


def _combine(
    kind: type[AllOf | AnyOf], a: _Predicate, b: _Predicate
) -> Expression | LocalPredicate:
    node = kind(flatten(kind, (a._node, b._node)))
    # a spliced operand keeps its depth; any other goes one level down
    depth = max(
        p._depth
        if isinstance(p._node, kind) and getattr(p._node, "name", None) is None
        else p._depth + 1
        for p in (a, b)
    )
    local = isinstance(a, LocalPredicate) or isinstance(b, LocalPredicate)
    return LocalPredicate(node, depth) if local else Expression(node, depth)


def _negate(condition: _Predicate) -> tuple[Node, int]:
    node = condition._node
    if isinstance(node, Not):
        return node.child, condition._depth - 1
    return Not(node), condition._depth + 1


class Expression(_Predicate):
    """A filter Lambda can evaluate: compile it with ``to_patterns()`` or ``to_criteria()``.

    Built from :func:`new_image`, :func:`old_image`, :func:`keys`, :data:`event_name` and the
    other builders, and combined with ``&`` (AND), ``|`` (OR) and ``~`` (NOT). Combining with a
    :class:`LocalPredicate` yields a :class:`LocalPredicate`. Expressions are immutable values:
    equal when their trees are, and ``repr`` is the Python that builds them.

    Example:
        >>> from ddbstream.filters import event_name, new_image
        >>> expr = (event_name == "INSERT") & (new_image("status") == "SHIPPED")
        >>> expr.matches({"eventName": "INSERT",
        ...               "dynamodb": {"NewImage": {"status": {"S": "SHIPPED"}}}})
        True
    """

    __slots__ = ()

    @property
    def matches(self) -> Callable[[object], bool]:
        """The expression as a function of a Lambda record dict or a StreamRecord.

        ``expr.matches(record)`` evaluates locally, with Lambda's semantics. The function is
        the compiled matcher of the expression's patterns (compiled on first use, then shared
        by equal expressions), or a walk of the tree for an expression Lambda has no operator
        for; both agree, which a property test checks. Fetch it once to call it in a loop, as
        the Router does.

        Raises:
            UsageError: (when called) the record is neither a mapping nor a StreamRecord.
        """
        return cast("Callable[[object], bool]", _criteria().matcher(self))

    @overload
    def __and__(self, other: Expression) -> Expression: ...
    @overload
    def __and__(self, other: LocalPredicate) -> LocalPredicate: ...
    def __and__(self, other: Expression | LocalPredicate) -> Expression | LocalPredicate:
        if not isinstance(other, _Predicate):
            return NotImplemented
        return _combine(AllOf, self, other)

    @overload
    def __or__(self, other: Expression) -> Expression: ...
    @overload
    def __or__(self, other: LocalPredicate) -> LocalPredicate: ...
    def __or__(self, other: Expression | LocalPredicate) -> Expression | LocalPredicate:
        if not isinstance(other, _Predicate):
            return NotImplemented
        return _combine(AnyOf, self, other)

    def __invert__(self) -> Expression:
        return Expression(*_negate(self))

    def to_patterns(self, *, max_filters: int = 5) -> list[dict[str, Any]]:
        """Compile to the fewest Lambda filter patterns (see :func:`compile_filters`)."""
        patterns = _criteria().compile_filters(self, max_filters=max_filters)
        return cast("list[dict[str, Any]]", patterns)

    def to_criteria(self, *, max_filters: int = 5) -> FilterCriteria:
        """Compile to a :class:`FilterCriteria` of the fewest filters (see :func:`to_criteria`)."""
        criteria = _criteria().FilterCriteria.from_expression(self, max_filters=max_filters)
        return cast("FilterCriteria", criteria)


class LocalPredicate(_Predicate):
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

    @property
    def matches(self) -> Callable[[object], bool]:
        """The predicate as a function of a Lambda record dict or a StreamRecord (it walks
        the tree)."""
        return self._walk

    def __and__(self, other: Expression | LocalPredicate) -> LocalPredicate:
        if not isinstance(other, _Predicate):
            return NotImplemented
        return _combine(AllOf, self, other)  # type: ignore[return-value]

    def __rand__(self, other: Expression | LocalPredicate) -> LocalPredicate:
        if not isinstance(other, _Predicate):
            return NotImplemented
        return _combine(AllOf, other, self)  # type: ignore[return-value]

    def __or__(self, other: Expression | LocalPredicate) -> LocalPredicate:
        if not isinstance(other, _Predicate):
            return NotImplemented
        return _combine(AnyOf, self, other)  # type: ignore[return-value]

    def __ror__(self, other: Expression | LocalPredicate) -> LocalPredicate:
        if not isinstance(other, _Predicate):
            return NotImplemented
        return _combine(AnyOf, other, self)  # type: ignore[return-value]

    def __invert__(self) -> LocalPredicate:
        return LocalPredicate(*_negate(self))


def expression(node: Leaf | AllOf) -> Expression:
    """The Expression of a leaf, or of a named AND of leaves (what builders return)."""
    return Expression(node, 1 if isinstance(node, AllOf) else 0)


def node_of(condition: Expression | LocalPredicate) -> Node:
    """The tree of an Expression or a LocalPredicate."""
    return condition._node


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
    return LocalPredicate(Changed(attribute), 0)


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
    return LocalPredicate(Where(predicate), 0)
