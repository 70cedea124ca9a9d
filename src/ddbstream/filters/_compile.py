"""Compile a filter :class:`Expression` to the fewest Lambda filter patterns.

The expression is put in negation normal form: ``~`` moves down to the leaves, where each
condition on one path complements itself exactly (``~(x == "a")`` becomes
``[{"exists": false}, {"anything-but": ["a"]}]``, or just the anything-but when the field is on
every record). Conditions on one path meet (``&``) or join (``|``) into a single value list.
The AND/OR tree is then written as **one** pattern, with each OR placed as ``$or`` at the
deepest object that holds all its fields; only when that exceeds 4096 characters is the top
OR split across filters. Anything Lambda has no operator for (the AND of two unrelated
prefixes on one field, NOT of a prefix, ...) raises :class:`FilterNotExpressible` naming the
field; a wrong pattern is never emitted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Union

from .._errors import FilterNotExpressible, LimitExceeded, format_path
from ._atoms import (
    ABSENT,
    PRESENT,
    Cond,
    Field,
    _Absent,
    _AnythingBut,
    _Atom,
    _Both,
    _Eq,
    _IgnoreCase,
    _Prefix,
    _Present,
    _Range,
    _Suffix,
    _Without,
    complement,
    intersect,
    is_true,
    normalize,
)
from ._criteria import Filter, FilterCriteria
from ._expr import Expression, LocalPredicate, _AllOf, _AnyOf, _Leaf, _Negation
from ._pattern import MAX_COMBINATIONS, MAX_PATTERN_LENGTH, RESERVED_IN_OR, combinations

__all__ = ["compile_filters", "dumps", "to_criteria"]

_RESERVED = RESERVED_IN_OR | {"$or"}


def dumps(pattern: Any) -> str:
    """Compact JSON, as sent to Lambda (the 4096-character limit is measured on this)."""
    return json.dumps(pattern, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Negation normal form
# ---------------------------------------------------------------------------------------------


class _Const:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


TRUE = _Const("TRUE")
FALSE = _Const("FALSE")


@dataclass(frozen=True)
class _L:
    field: Field
    cond: Cond


@dataclass(frozen=True)
class _A:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class _O:
    items: tuple[Node, ...]


Node = Union[_L, _A, _O, _Const]  # noqa: UP007 - a runtime alias on Python 3.10


def _leaf(field: Field, cond: Cond) -> Node:
    if not cond:
        return FALSE
    if is_true(cond, field):
        return TRUE
    return _L(field, cond)


def _nnf(expr: object, negate: bool) -> Node:
    if isinstance(expr, _Leaf):
        f = expr.field
        if negate and f.multi and not expr.cond <= {PRESENT, ABSENT}:
            raise FilterNotExpressible(
                f"cannot express NOT of {expr!r} on {format_path(f.path)}: Lambda matches "
                "a set or list when any element matches, so 'no element is x' has no "
                "operator; use a router predicate"
            )
        return _leaf(f, complement(expr.cond, f) if negate else expr.cond)
    if isinstance(expr, _Negation):
        return _nnf(expr.child, not negate)
    if isinstance(expr, (_AllOf, _AnyOf)):
        parts = [_nnf(child, negate) for child in expr.children]
        return _and(parts) if isinstance(expr, _AllOf) != negate else _or(parts)
    if isinstance(expr, LocalPredicate):
        raise FilterNotExpressible(
            f"{expr!r} is a local-only predicate: Lambda cannot evaluate it; keep it in the "
            "router and compile only the Expression part"
        )
    raise FilterNotExpressible(f"{expr!r} is not a filter Expression")


def _and(parts: list[Node]) -> Node:
    leaves: dict[tuple[str, ...], _L] = {}
    rest: list[Node] = []
    for part in _flatten(parts, _A):
        if part is FALSE:
            return FALSE
        if isinstance(part, _L):
            seen = leaves.get(part.field.path)
            if seen is not None:
                f = part.field
                _check_element_and(seen, part)
                merged = _leaf(f, intersect(seen.cond, part.cond, f))
                if merged is FALSE:
                    return FALSE
                if merged is TRUE:
                    del leaves[f.path]
                    continue
                assert isinstance(merged, _L)
                part = merged
            leaves[part.field.path] = part
        elif part is not TRUE and part not in rest:
            rest.append(part)
    items = (*leaves.values(), *rest)
    return items[0] if len(items) == 1 else (_A(items) if items else TRUE)


def _check_element_and(a: _L, b: _L) -> None:
    """Two element tests on one set or list: only exact when one is a bare presence test."""
    trivial = frozenset({PRESENT}), frozenset({ABSENT})
    if a.field.multi and a.cond != b.cond and a.cond not in trivial and b.cond not in trivial:
        raise FilterNotExpressible(
            f"cannot express the AND of two element tests on {format_path(a.field.path)}: "
            "one pattern tests a field once (any element); use | or a router predicate"
        )


def _or(parts: list[Node]) -> Node:
    leaves: dict[tuple[str, ...], _L] = {}
    rest: list[Node] = []
    for part in _flatten(parts, _O):
        if part is TRUE:
            return TRUE
        if isinstance(part, _L):
            seen = leaves.get(part.field.path)
            if seen is not None:
                f = part.field
                merged = _leaf(f, normalize(seen.cond | part.cond, f))
                if merged is TRUE:
                    return TRUE
                assert isinstance(merged, _L)
                part = merged
            leaves[part.field.path] = part
        elif part is not FALSE and part not in rest:
            rest.append(part)
    items = (*leaves.values(), *rest)
    return items[0] if len(items) == 1 else (_O(items) if items else FALSE)


def _flatten(parts: list[Node], kind: type) -> list[Node]:
    out: list[Node] = []
    for part in parts:
        if isinstance(part, (_A, _O)) and isinstance(part, kind):
            out.extend(part.items)
        else:
            out.append(part)
    return out


# ---------------------------------------------------------------------------------------------
# Leaves -> value lists
# ---------------------------------------------------------------------------------------------


def _json_number(value: Decimal) -> int | float:
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    out = float(value)
    if Decimal(repr(out)) != value:
        raise FilterNotExpressible(f"{value} has no exact JSON double form for a numeric filter")
    return out


def _entry(atom: _Atom, leaf: _L) -> Any:
    if isinstance(atom, _Absent):
        return {"exists": False}
    if isinstance(atom, _Present):
        return {"exists": True}
    if isinstance(atom, _Eq):
        if isinstance(atom.value, Decimal):
            return {"numeric": ["=", _json_number(atom.value)]}
        return atom.value
    if isinstance(atom, _Prefix):
        return {"prefix": atom.text}
    if isinstance(atom, _Suffix):
        return {"suffix": atom.text}
    if isinstance(atom, _IgnoreCase):
        return {"equals-ignore-case": atom.text}
    if isinstance(atom, _AnythingBut):
        values = sorted(atom.values, key=lambda v: (str(type(v)), v))
        return {"anything-but": [_json_number(v) if isinstance(v, Decimal) else v for v in values]}
    if isinstance(atom, _Range):
        if atom.low is not None and atom.low == atom.high:
            return {"numeric": ["=", _json_number(atom.low)]}
        terms: list[Any] = []
        if atom.low is not None:
            terms += [">=" if atom.low_inclusive else ">", _json_number(atom.low)]
        if atom.high is not None:
            terms += ["<=" if atom.high_inclusive else "<", _json_number(atom.high)]
        return {"numeric": terms}
    raise FilterNotExpressible(_why(atom, leaf))


def _why(atom: _Atom, leaf: _L) -> str:
    where = format_path(leaf.field.path)
    if isinstance(atom, _Without):
        op = {_Prefix: "prefix", _Suffix: "suffix", _IgnoreCase: "equals-ignore-case"}
        name = op.get(type(atom.atom), type(atom.atom).__name__)
        return (
            f"cannot express NOT {name} on {where}: Lambda has no negated {name} "
            "(anything-but with a prefix/suffix is EventBridge-only); use a router predicate"
        )
    parts = ", ".join(sorted(repr(a) for a in atom.atoms)) if isinstance(atom, _Both) else ""
    return (
        f"cannot express the AND of several conditions on {where} ({parts}): Lambda can test "
        "one field only with an OR of operators; use a router predicate for the rest"
    )


def _value_list(leaf: _L) -> list[Any]:
    def order(atom: _Atom) -> tuple[int, str]:
        rank = 0 if isinstance(atom, _Eq) else 2 if isinstance(atom, _Absent) else 1
        return (rank, repr(atom))

    return [_entry(atom, leaf) for atom in sorted(leaf.cond, key=order)]


# ---------------------------------------------------------------------------------------------
# Tree -> one pattern object
# ---------------------------------------------------------------------------------------------


class _Reserved(Exception):
    pass


def _paths(node: Node) -> set[tuple[str, ...]]:
    if isinstance(node, _L):
        return {node.field.path}
    if isinstance(node, (_A, _O)):
        return set().union(*(_paths(item) for item in node.items))
    return set()


def _common(paths: set[tuple[str, ...]]) -> tuple[str, ...]:
    items = sorted(paths)
    first, last = items[0], items[-1]
    n = 0
    while n < min(len(first), len(last)) - 1 and first[n] == last[n]:
        n += 1
    return first[:n]


def _untangle(items: tuple[Node, ...]) -> Node | None:
    """Distribute one child into an OR when two children test the same path (else None)."""
    owners: dict[tuple[str, ...], int] = {}
    for i, item in enumerate(items):
        for path in _paths(item):
            j = owners.setdefault(path, i)
            if j != i:
                a, b = items[j], items[i]
                inner, other = (a, b) if isinstance(a, _O) else (b, a)
                assert isinstance(inner, _O)
                spread = _or([_and([other, branch]) for branch in inner.items])
                rest = [x for k, x in enumerate(items) if k not in (i, j)]
                return _and([*rest, spread])
    return None


def _settle(node: Node) -> Node:
    """Simplify bottom-up, distributing ANDs whose children test a shared path."""
    if isinstance(node, _O):
        return _or([_settle(item) for item in node.items])
    if isinstance(node, _A):
        merged = _and([_settle(item) for item in node.items])
        if isinstance(merged, _A) and (fixed := _untangle(merged.items)) is not None:
            return _settle(fixed)
        return merged
    return node


def _emit(node: Node, base: tuple[str, ...], in_or: bool) -> dict[str, Any]:
    if isinstance(node, _L):
        obj: dict[str, Any] = {}
        _put(obj, node.field.path[len(base) :], _value_list(node), in_or)
        return obj
    items = node.items if isinstance(node, _A) else (node,)
    if isinstance(node, _A) and (fixed := _untangle(items)) is not None:
        return _emit(fixed, base, in_or)
    obj = {}
    taken: dict[tuple[str, ...], _O] = {}
    for item in items:
        if isinstance(item, _L):
            _put(obj, item.field.path[len(base) :], _value_list(item), in_or)
    for item in items:
        if not isinstance(item, _O):
            continue
        prefix = _common(_paths(item))
        spots = [prefix[:n] for n in range(len(prefix), len(base) - 1, -1)]
        spot = next((s for s in spots if s not in taken), None)
        if spot is None:
            other = taken[base]
            merged = _or([_and([branch, item]) for branch in other.items])
            rest = [x for x in items if x is not item and x is not other]
            return _emit(_and([*rest, merged]), base, in_or)
        taken[spot] = item
    for spot, item in taken.items():
        branches = [_emit(branch, spot, True) for branch in item.items]
        _put(obj, (*spot[len(base) :], "$or"), branches, in_or)
    return obj


def _put(obj: dict[str, Any], path: tuple[str, ...], value: Any, in_or: bool) -> None:
    for key in path[:-1]:
        if in_or and key in _RESERVED:
            raise _Reserved(key)
        obj = obj.setdefault(key, {})
    if in_or and path[-1] in _RESERVED and path[-1] != "$or":
        raise _Reserved(path[-1])
    obj[path[-1]] = value


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def _pattern(node: Node, allow_or: bool) -> dict[str, Any] | None:
    try:
        return _emit(node, (), False) if allow_or or not _has_or(node) else None
    except _Reserved:
        return None


def _has_or(node: Node) -> bool:
    return isinstance(node, _O) or (isinstance(node, _A) and any(map(_has_or, node.items)))


def compile_filters(expression: Expression, *, max_filters: int = 5) -> list[dict[str, Any]]:
    """Compile an expression to the fewest Lambda filter patterns (ORed by Lambda).

    One pattern with ``$or`` whenever it fits in 4096 characters; otherwise the top-level OR is
    spread over at most ``max_filters`` patterns (5 by default, 10 with a quota increase).

    Raises:
        FilterNotExpressible: a local-only predicate, a condition Lambda has no operator for,
            or an expression that matches every record or none.
        LimitExceeded: the patterns need more than ``max_filters`` filters of 4096 characters.

    Example:
        >>> from ddbstream.filters import compile_filters, event_name, new_image
        >>> compile_filters((event_name == "INSERT") | (new_image("status") == "SHIPPED"))
        ... # doctest: +NORMALIZE_WHITESPACE
        [{'$or': [{'eventName': ['INSERT']},
                  {'dynamodb': {'NewImage': {'status': {'S': ['SHIPPED']}}}}]}]
    """
    root = _settle(_nnf(expression, False))
    _check_list_elements(root)
    if root is TRUE:
        raise FilterNotExpressible(
            f"{expression!r} matches every record; use no FilterCriteria instead of a filter"
        )
    if root is FALSE:
        raise FilterNotExpressible(f"{expression!r} can never match any record")
    single = _pattern(root, True)
    if single is not None and _within_limits(single):
        return [single]
    return _spread(root, max_filters, expression)


_ELEMENT_TYPES = frozenset({"S", "N", "B", "BOOL"})


def _element_fields(node: Node) -> set[frozenset[Field]]:
    """For each AND-term of ``node``, the list-element fields (``contains`` on an L) it tests."""
    if isinstance(node, _L):
        f = node.field
        if f.multi and len(f.path) > 1 and f.path[-2] == "L" and f.path[-1] in _ELEMENT_TYPES:
            return {frozenset({f})}
        return {frozenset()}
    if isinstance(node, _O):
        return set().union(*(_element_fields(item) for item in node.items))
    if isinstance(node, _A):
        terms: set[frozenset[Field]] = {frozenset()}
        for item in node.items:
            terms = {a | b for a in terms for b in _element_fields(item)}
        return terms
    return {frozenset()}


def _check_list_elements(root: Node) -> None:
    """Refuse an AND of element tests of different types on one list (L).

    event-ruler (and so the pattern layer) matches all the fields of a pattern within *one*
    element of an array, so ``{"L": {"N": ["1"], "S": ["a"]}}`` needs an element that is both a
    number and a string, and never matches ``[1, "a"]``.
    """
    for term in _element_fields(root):
        lists: dict[tuple[str, ...], Field] = {}
        for f in sorted(term, key=lambda f: f.path):
            seen = lists.setdefault(f.path[:-1], f)
            if seen is not f:
                raise FilterNotExpressible(
                    f"cannot express the AND of element tests of different types on "
                    f"{format_path(f.path[:-1])} ({seen.path[-1]} and {f.path[-1]}): Lambda "
                    "matches the fields of a pattern inside one list element; use | or a "
                    "router predicate"
                )


def _spread(root: Node, max_filters: int, expression: object) -> list[dict[str, Any]]:
    alternatives = [alt for alt in _split(root, expression) if alt is not FALSE]
    alternatives.sort(key=lambda n: -len(dumps(_pattern(n, True) or {})))
    bins: list[list[Node]] = []
    for alt in alternatives:
        for group in bins:
            if _fits(_or([*group, alt])):
                group.append(alt)
                break
        else:
            bins.append([alt])
    if len(bins) > max_filters:
        raise LimitExceeded(
            f"{expression!r} needs {len(bins)} filters but a mapping takes {max_filters}; "
            "request the quota increase (up to 10) or simplify the expression"
        )
    out = [_pattern(_or(group), True) for group in bins]
    return [p for p in out if p is not None]


def _split(node: Node, expression: object) -> list[Node]:
    """Alternatives (ORed) that each fit in one pattern, distributing the widest OR."""
    if _fits(node):
        return [node]
    if isinstance(node, _O):
        return [alt for item in node.items for alt in _split(item, expression)]
    ors = [item for item in node.items if isinstance(item, _O)] if isinstance(node, _A) else []
    if not ors:
        pattern = _pattern(node, False)
        why = (
            f"longer than Lambda's {MAX_PATTERN_LENGTH} characters"
            if pattern is None or len(dumps(pattern)) > MAX_PATTERN_LENGTH
            else f"more than {MAX_COMBINATIONS} $or combinations"
        )
        raise LimitExceeded(
            f"one alternative of {expression!r} needs a pattern {why}; split the expression"
        )
    assert isinstance(node, _A)
    widest = max(ors, key=lambda o: len(o.items))
    rest = [item for item in node.items if item is not widest]
    spread = [_settle(_and([*rest, branch])) for branch in widest.items]
    return [alt for part in spread for alt in _split(part, expression)]


def _fits(node: Node) -> bool:
    pattern = _pattern(node, True)
    return pattern is not None and _within_limits(pattern)


def _within_limits(pattern: dict[str, Any]) -> bool:
    return len(dumps(pattern)) <= MAX_PATTERN_LENGTH and combinations(pattern) <= MAX_COMBINATIONS


def to_criteria(expression: Expression, *, max_filters: int = 5) -> FilterCriteria:
    """Compile ``expression`` into a :class:`FilterCriteria` of the fewest filters.

    Args:
        expression: an expressible filter (never a :class:`LocalPredicate`).
        max_filters: your filters-per-mapping quota: 5, or up to 10 after a quota increase.

    Raises:
        FilterNotExpressible: see :func:`compile_filters`.
        LimitExceeded: more than ``max_filters`` filters would be needed.

    Example:
        >>> from ddbstream.filters import event_name, to_criteria
        >>> to_criteria(event_name != "REMOVE").to_dict()
        {'Filters': [{'Pattern': '{"eventName":[{"anything-but":["REMOVE"]}]}'}]}
    """
    patterns = compile_filters(expression, max_filters=max_filters)
    return FilterCriteria([Filter.from_pattern(p) for p in patterns], max_filters=max_filters)
