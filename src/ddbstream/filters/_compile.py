"""Compile a filter :class:`Expression` to the fewest Lambda filter patterns (plain dicts).

The expression is put in negation normal form: ``~`` moves down to the leaves, where each
condition on one path complements itself exactly (``~(x == "a")`` becomes
``[{"exists": false}, {"anything-but": ["a"]}]``, or just the anything-but when the field is on
every record). Conditions on one path meet (``&``) or join (``|``) into a single value list.
The AND/OR tree, written with the expression's own nodes (:class:`AllOf`, :class:`AnyOf`,
:class:`Leaf`; ``AllOf(())`` is true and ``AnyOf(())`` false), is then written as **one**
pattern, with each OR placed as ``$or`` at the deepest object that holds all its fields; only
when that exceeds Lambda's limits is the top OR split across filters. Anything Lambda has no
operator for (the AND of two unrelated prefixes on one field, NOT of a prefix, ...) raises
:class:`FilterNotExpressible` naming the field; a wrong pattern is never emitted.
"""

from __future__ import annotations

from typing import Any, Union

from .._errors import FilterNotExpressible, LimitExceeded, format_path
from ._algebra import complement, intersect, is_true, simplify
from ._atoms import ABSENT, PRESENT, Atoms, Field, entries
from ._expr import AllOf, AnyOf, Expression, Leaf, LocalPredicate, Node, Not, flatten, node_of
from ._json import dumps
from ._pattern import MAX_COMBINATIONS, MAX_PATTERN_LENGTH, RESERVED_IN_OR, combinations

__all__ = ["compile_filters"]

_RESERVED = RESERVED_IN_OR | {"$or"}
TRUE = AllOf(())
FALSE = AnyOf(())
Tree = Union[Leaf, AllOf, AnyOf]  # noqa: UP007 - a runtime alias on Python 3.10
#: Work the compiler may do (AND/OR nodes it builds) before it gives up on an expression.
_BUDGET = 50_000


class _Budget:
    """Distributing ANDs over ORs can multiply nodes; past a bound the compiler stops."""

    def __init__(self, expression: Expression) -> None:
        self.left = _BUDGET
        self.expression = expression

    def spend(self, amount: int = 1) -> None:
        self.left -= amount
        if self.left < 0:
            raise LimitExceeded(
                f"{self.expression!r} is too complex to compile: distributing its ANDs over "
                f"its ORs takes more than {_BUDGET} steps; simplify it or split it into "
                "several expressions"
            )


# ---------------------------------------------------------------------------------------------
# Negation normal form
# ---------------------------------------------------------------------------------------------


def _leaf(field: Field, atoms: Atoms) -> Tree:
    if not atoms:
        return FALSE
    if is_true(atoms, field):
        return TRUE
    return Leaf(field, atoms)


def _nnf(node: Node, negate: bool) -> Tree:
    if isinstance(node, Leaf):
        f = node.field
        if negate and f.multi and not node.atoms <= {PRESENT, ABSENT}:
            raise FilterNotExpressible(
                f"cannot express NOT of {node!r} on {format_path(f.path)}: Lambda matches "
                "a set or list when any element matches, so 'no element is x' has no "
                "operator; use a router predicate"
            )
        return _leaf(f, complement(node.atoms, f) if negate else node.atoms)
    if isinstance(node, Not):
        return _nnf(node.child, not negate)
    if isinstance(node, (AllOf, AnyOf)):
        parts = [_nnf(child, negate) for child in node.children]
        return _join(parts, isinstance(node, AllOf) != negate)
    raise AssertionError(f"{node!r} in an Expression")  # pragma: no cover - types forbid it


def _join(parts: list[Tree], conjunction: bool) -> Tree:
    """The AND (``conjunction``) or the OR of ``parts``, conditions on one path merged."""
    kind, unit, zero = (AllOf, TRUE, FALSE) if conjunction else (AnyOf, FALSE, TRUE)
    leaves: dict[tuple[str, ...], Leaf] = {}
    rest: list[Tree] = []
    for part in flatten(kind, parts, named=True):
        assert isinstance(part, (Leaf, AllOf, AnyOf))
        if part == zero:
            return zero
        if isinstance(part, Leaf):
            seen = leaves.get(part.field.path)
            if seen is not None:
                f = part.field
                if conjunction:
                    _check_element_and(seen, part)
                    merged = _leaf(f, intersect(seen.atoms, part.atoms, f))
                else:
                    merged = _leaf(f, simplify(seen.atoms | part.atoms, f))
                if merged == zero:
                    return zero
                if merged == unit:
                    del leaves[f.path]
                    continue
                assert isinstance(merged, Leaf)
                part = merged
            leaves[part.field.path] = part
        elif part != unit and part not in rest:
            rest.append(part)
    items = (*leaves.values(), *rest)
    return items[0] if len(items) == 1 else (kind(items) if items else unit)


def _and(parts: list[Tree]) -> Tree:
    return _join(parts, True)


def _or(parts: list[Tree]) -> Tree:
    return _join(parts, False)


def _check_element_and(a: Leaf, b: Leaf) -> None:
    """Two element tests on one set or list: only exact when one is a bare presence test."""
    trivial = frozenset({PRESENT}), frozenset({ABSENT})
    if a.field.multi and a.atoms != b.atoms and a.atoms not in trivial and b.atoms not in trivial:
        raise FilterNotExpressible(
            f"cannot express the AND of two element tests on {format_path(a.field.path)}: "
            "one pattern tests a field once (any element); use | or a router predicate"
        )


# ---------------------------------------------------------------------------------------------
# Tree -> one pattern object
# ---------------------------------------------------------------------------------------------


class _Reserved(Exception):
    pass


def _children(node: Tree) -> tuple[Node, ...]:
    return node.children if isinstance(node, (AllOf, AnyOf)) else ()


def _paths(node: Node) -> set[tuple[str, ...]]:
    if isinstance(node, Leaf):
        return {node.field.path}
    if isinstance(node, (AllOf, AnyOf)):
        return set().union(*(_paths(item) for item in node.children))
    return set()


def _common(paths: set[tuple[str, ...]]) -> tuple[str, ...]:
    items = sorted(paths)
    first, last = items[0], items[-1]
    n = 0
    while n < min(len(first), len(last)) - 1 and first[n] == last[n]:
        n += 1
    return first[:n]


def _untangle(items: tuple[Node, ...], budget: _Budget) -> Tree | None:
    """Distribute one child into an OR when two children test the same path (else None)."""
    owners: dict[tuple[str, ...], int] = {}
    for i, item in enumerate(items):
        for path in _paths(item):
            j = owners.setdefault(path, i)
            if j != i:
                a, b = items[j], items[i]
                inner, other = (a, b) if isinstance(a, AnyOf) else (b, a)
                assert isinstance(inner, AnyOf)
                assert isinstance(other, (Leaf, AllOf, AnyOf))
                budget.spend(len(inner.children))
                spread = _or([_and([other, branch]) for branch in _trees(inner)])
                rest = [x for k, x in enumerate(_trees_of(items)) if k not in (i, j)]
                return _and([*rest, spread])
    return None


def _trees(node: Tree) -> list[Tree]:
    return _trees_of(_children(node))


def _trees_of(items: tuple[Node, ...]) -> list[Tree]:
    out = []
    for item in items:
        assert isinstance(item, (Leaf, AllOf, AnyOf))
        out.append(item)
    return out


def _settle(node: Tree, budget: _Budget) -> Tree:
    """Simplify bottom-up, distributing ANDs whose children test a shared path."""
    budget.spend()
    if isinstance(node, AnyOf):
        return _or([_settle(item, budget) for item in _trees(node)])
    if isinstance(node, AllOf):
        merged = _and([_settle(item, budget) for item in _trees(node)])
        if isinstance(merged, AllOf) and (fixed := _untangle(merged.children, budget)):
            return _settle(fixed, budget)
        return merged
    return node


def _emit(node: Tree, base: tuple[str, ...], in_or: bool, budget: _Budget) -> dict[str, Any]:
    budget.spend()
    if isinstance(node, Leaf):
        obj: dict[str, Any] = {}
        _put(obj, node.field.path[len(base) :], _values(node), in_or)
        return obj
    items = _trees(node) if isinstance(node, AllOf) else [node]
    if isinstance(node, AllOf) and (fixed := _untangle(node.children, budget)) is not None:
        return _emit(fixed, base, in_or, budget)
    obj = {}
    taken: dict[tuple[str, ...], AnyOf] = {}
    for item in items:
        if isinstance(item, Leaf):
            _put(obj, item.field.path[len(base) :], _values(item), in_or)
    for item in items:
        if not isinstance(item, AnyOf):
            continue
        prefix = _common(_paths(item))
        spots = [prefix[:n] for n in range(len(prefix), len(base) - 1, -1)]
        spot = next((s for s in spots if s not in taken), None)
        if spot is None:
            other = taken[base]
            budget.spend(len(other.children))
            merged = _or([_and([branch, item]) for branch in _trees(other)])
            rest = [x for x in items if x is not item and x is not other]
            return _emit(_and([*rest, merged]), base, in_or, budget)
        taken[spot] = item
    for spot, item in taken.items():
        branches = [_emit(branch, spot, True, budget) for branch in _trees(item)]
        _put(obj, (*spot[len(base) :], "$or"), branches, in_or)
    return obj


def _values(leaf: Leaf) -> list[Any]:
    return entries(leaf.atoms, format_path(leaf.field.path))


def _put(obj: dict[str, Any], path: tuple[str, ...], value: Any, in_or: bool) -> None:
    for key in path[:-1]:
        if in_or and key in _RESERVED:
            raise _Reserved(key)
        obj = obj.setdefault(key, {})
    if in_or and path[-1] in _RESERVED and path[-1] != "$or":
        raise _Reserved(path[-1])
    obj[path[-1]] = value


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _pattern(node: Tree, allow_or: bool, budget: _Budget) -> dict[str, Any] | None:
    try:
        return _emit(node, (), False, budget) if allow_or or not _has_or(node) else None
    except _Reserved:
        return None


def _has_or(node: Node) -> bool:
    return isinstance(node, AnyOf) or (isinstance(node, AllOf) and any(map(_has_or, node.children)))


def compile_filters(expression: Expression, *, max_filters: int = 5) -> list[dict[str, Any]]:
    """Compile an expression to the fewest Lambda filter patterns (ORed by Lambda).

    One pattern with ``$or`` whenever it fits in 4096 characters; otherwise the top-level OR is
    spread over at most ``max_filters`` patterns (5 by default, 10 with a quota increase).

    Raises:
        FilterNotExpressible: a local-only predicate, a condition Lambda has no operator for,
            or an expression that matches every record or none.
        LimitExceeded: the patterns need more than ``max_filters`` filters of 4096 characters,
            or the expression is too complex to compile.

    Example:
        >>> from ddbstream.filters import compile_filters, event_name, new_image
        >>> compile_filters((event_name == "INSERT") | (new_image("status") == "SHIPPED"))
        ... # doctest: +NORMALIZE_WHITESPACE
        [{'$or': [{'eventName': ['INSERT']},
                  {'dynamodb': {'NewImage': {'status': {'S': ['SHIPPED']}}}}]}]
    """
    given: object = expression  # mypy refuses a LocalPredicate here; at runtime, say why
    if isinstance(given, LocalPredicate):
        raise FilterNotExpressible(
            f"{expression!r} is a local-only predicate: Lambda cannot evaluate it; keep it in "
            "the router and compile only the Expression part"
        )
    if not isinstance(expression, Expression):
        raise FilterNotExpressible(f"{expression!r} is not a filter Expression")
    budget = _Budget(expression)
    root = _settle(_nnf(node_of(expression), False), budget)
    _check_list_elements(root)
    if root == TRUE:
        raise FilterNotExpressible(
            f"{expression!r} matches every record; use no FilterCriteria instead of a filter"
        )
    if root == FALSE:
        raise FilterNotExpressible(f"{expression!r} can never match any record")
    single = _pattern(root, True, budget)
    if single is not None and _within_limits(single):
        return [single]
    return _spread(root, max_filters, budget)


_ELEMENT_TYPES = frozenset({"S", "N", "B", "BOOL"})


def _check_list_elements(node: Tree) -> set[tuple[str, ...]]:
    """Refuse an AND of element tests of different types on one list (L); return the element
    fields (``contains`` on an L) tested below ``node``.

    event-ruler (and so the pattern layer) matches all the fields of a pattern within *one*
    element of an array, so ``{"L": {"N": ["1"], "S": ["a"]}}`` needs an element that is both a
    number and a string, and never matches ``[1, "a"]``. Two fields can meet in one pattern
    when the node where their paths join is an AND.
    """
    if isinstance(node, Leaf):
        path = node.field.path
        element = node.field.multi and len(path) > 1 and path[-2] == "L"
        return {path} if element and path[-1] in _ELEMENT_TYPES else set()
    found: set[tuple[str, ...]] = set()
    for child in _trees(node) if isinstance(node, (AllOf, AnyOf)) else []:
        inner = _check_list_elements(child)
        if isinstance(node, AllOf):
            for a in inner:
                for b in found:
                    if a[:-1] == b[:-1] and a != b:
                        raise FilterNotExpressible(
                            f"cannot express the AND of element tests of different types on "
                            f"{format_path(a[:-1])} ({min(a[-1], b[-1])} and "
                            f"{max(a[-1], b[-1])}): Lambda matches the fields of a pattern "
                            "inside one list element; use | or a router predicate"
                        )
        found |= inner
    return found


def _spread(root: Tree, max_filters: int, budget: _Budget) -> list[dict[str, Any]]:
    expression = budget.expression
    limit = 64 * max_filters
    alternatives = [alt for alt in _split(root, budget, limit) if alt != FALSE]
    alternatives.sort(key=lambda n: -len(dumps(_pattern(n, True, budget) or {})))
    bins: list[list[Tree]] = []
    for alt in alternatives:
        for group in bins:
            if _fits(_or([*group, alt]), budget):
                group.append(alt)
                break
        else:
            bins.append([alt])
    if len(bins) > max_filters:
        raise LimitExceeded(
            f"{expression!r} needs {len(bins)} filters but a mapping takes {max_filters}; "
            "request the quota increase (up to 10) or simplify the expression"
        )
    out = [_pattern(_or(group), True, budget) for group in bins]
    return [p for p in out if p is not None]


def _split(node: Tree, budget: _Budget, limit: int) -> list[Tree]:
    """Alternatives (ORed) that each fit in one pattern, distributing the widest OR; more than
    ``limit`` of them could not fit in the filters a mapping takes."""
    todo, out = [node], list[Tree]()
    while todo:
        node = todo.pop()
        if len(out) + len(todo) > limit:
            raise LimitExceeded(
                f"{budget.expression!r} splits into more than {limit} alternatives that do "
                "not fit in one pattern each; simplify the expression"
            )
        if _fits(node, budget):
            out.append(node)
        elif isinstance(node, AnyOf):
            todo += reversed(_trees(node))
        else:
            ors = [item for item in _trees(node) if isinstance(item, AnyOf)]
            if not ors:
                raise LimitExceeded(_too_large(node, budget))
            widest = max(ors, key=lambda o: len(o.children))
            rest = [item for item in _trees(node) if item is not widest]
            spread = [_settle(_and([*rest, branch]), budget) for branch in _trees(widest)]
            todo += reversed(spread)
    return out


def _too_large(node: Tree, budget: _Budget) -> str:
    pattern = _pattern(node, False, budget)
    why = (
        f"longer than Lambda's {MAX_PATTERN_LENGTH} characters"
        if pattern is None or len(dumps(pattern)) > MAX_PATTERN_LENGTH
        else f"more than {MAX_COMBINATIONS} $or combinations"
    )
    return f"one alternative of {budget.expression!r} needs a pattern {why}; split the expression"


def _fits(node: Tree, budget: _Budget) -> bool:
    pattern = _pattern(node, True, budget)
    return pattern is not None and _within_limits(pattern)


def _within_limits(pattern: dict[str, Any]) -> bool:
    return len(dumps(pattern)) <= MAX_PATTERN_LENGTH and combinations(pattern) <= MAX_COMBINATIONS
