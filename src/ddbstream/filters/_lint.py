"""Lint Lambda filter patterns for DynamoDB streams: what AWS rejects, what never matches.

AWS accepts many patterns that can never match a DynamoDB stream record (a numeric test on an
``N`` value, ``exists`` on an attribute instead of its descriptor, ``[null]`` for a DynamoDB
NULL) and some that silently drop records (a NewImage condition drops every REMOVE).
:func:`lint` finds them; every :class:`Finding` says why and how to fix it. The findings are
the rows of :data:`ddbstream.filters._lint_rules.RULES`; the checks here decide where they
apply. Patterns are walked without recursion (they can nest about 800 levels).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import EventName, StreamViewType
from .._errors import FilterNotExpressible, InvalidPattern, PathItem, UsageError
from ._attribute import canonical_number
from ._compile import compile_filters
from ._criteria import Filter, FilterCriteria
from ._expr import Expression
from ._json import Walk, dumps, run
from ._lint_rules import RULES, Finding
from ._operators import parse_entry, support, value_test
from ._pattern import MAX_COMBINATIONS, exceeded_limit
from ._record import EVENT_NAMES, VIEW_TYPES

__all__ = ["Finding", "lint"]

_TOP = {"dynamodb", "eventName", "eventSource", "userIdentity"}
_UNDOCUMENTED_TOP = {"awsRegion", "eventSourceARN", "eventID", "eventVersion"}
_DYNAMODB = {
    "Keys", "NewImage", "OldImage", "ApproximateCreationDateTime", "SizeBytes",
    "SequenceNumber", "StreamViewType",
}  # fmt: skip
_IMAGES = ("Keys", "NewImage", "OldImage")
_STRINGS = {"S", "N", "B", "SS", "NS", "BS"}
_DESCRIPTORS = {*_STRINGS, "BOOL", "NULL", "M", "L"}
_NUMERIC_LIMIT = 5e9


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

Location = tuple[PathItem, ...]


def _finding(rule: str, where: Location, **fields: Any) -> Finding:
    """The finding of ``rule`` (a row of the rule table) at ``where``."""
    row = RULES[rule]
    return Finding(row.severity, row.code, where, row.message.format(**fields))


def _inputs(target: object) -> tuple[list[Any], int]:
    """The patterns to lint (text or mappings) and the filter quota that applies."""
    if isinstance(target, FilterCriteria):
        return [f.to_json() for f in target], target.max_filters
    if isinstance(target, Filter):
        return [target.to_json()], 5
    if isinstance(target, Expression):
        return list(compile_filters(target, max_filters=10)), 5
    if isinstance(target, Mapping) and isinstance(target.get("Filters"), list):
        return [f.get("Pattern") if isinstance(f, Mapping) else f for f in target["Filters"]], 5
    if isinstance(target, (str, bytes, Mapping)):
        return [target], 5
    if isinstance(target, (list, tuple)):
        return [t.to_json() if isinstance(t, Filter) else t for t in target], 5
    raise UsageError(
        "lint() takes a Filter, FilterCriteria, Expression, pattern (dict or JSON text) "
        f"or a list of patterns, not {type(target).__name__}"
    )


def lint(target: object, *, stream_view_type: str | None = None) -> list[Finding]:
    """Find patterns AWS rejects, conditions that never match and records silently dropped.

    Args:
        target: a :class:`Filter`, :class:`FilterCriteria`, DSL :class:`Expression`, a pattern
            (dict or JSON text), a list of them, or ``{"Filters": [{"Pattern": ...}]}``.
        stream_view_type: the table's ``StreamViewType`` (``"KEYS_ONLY"``, ``"NEW_IMAGE"``,
            ``"OLD_IMAGE"``, ``"NEW_AND_OLD_IMAGES"``), to flag conditions on images the
            stream does not carry.

    Returns:
        The findings, errors first; empty when nothing is wrong.

    Example:
        >>> from ddbstream.filters import lint
        >>> for finding in lint('{"dynamodb": {"NewImage": {"status": ["SHIPPED"]}}}'):
        ...     print(finding.code)
        missing-descriptor
        drops-remove
    """
    view = str(getattr(stream_view_type, "value", stream_view_type or "")) or None
    if view is not None and view not in VIEW_TYPES:
        raise UsageError(f"{stream_view_type=} is not a DynamoDB StreamViewType")
    patterns, quota = _inputs(target)
    findings: list[Finding] = []
    if len(patterns) > quota:
        fix = "combine patterns with $or"
        if quota < 10:
            fix += ", or request the quota increase (10 at most)"
        findings.append(_finding("too-many-filters", (), count=len(patterns), quota=quota, fix=fix))
    elif len(patterns) > 5:
        findings.append(_finding("filter-quota", (), count=len(patterns)))
    for index, pattern in enumerate(patterns):
        where = index if len(patterns) > 1 or isinstance(target, FilterCriteria) else None
        found = _lint_one(pattern, view)
        findings.extend(_with_filter(f, where) for f in found)
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: (f.severity != "error", f.filter or 0))


def _with_filter(finding: Finding, index: int | None) -> Finding:
    return Finding(finding.severity, finding.code, finding.path, finding.message, index)


def _lint_one(pattern: Any, view: str | None) -> list[Finding]:
    try:
        parsed = Filter.from_pattern(pattern).to_pattern()
    except InvalidPattern as exc:
        return [_rejected(exc)]
    out: list[Finding] = []
    run(_walk(parsed, (), (), out))
    for combination in run(_combinations(parsed, (), ())):
        _check_combination(combination, view, out)
    return out


def _rejected(exc: InvalidPattern) -> Finding:
    limit = exceeded_limit(exc)
    if limit == "length":
        return _finding("pattern-too-long", exc.path, reason=exc.reason)
    if limit == "combinations":
        return _finding("too-many-combinations", exc.path, reason=exc.reason)
    return _finding("invalid-pattern", exc.path, reason=exc.reason.rstrip("."))


# ---------------------------------------------------------------------------------------------
# Per-path checks
# ---------------------------------------------------------------------------------------------


def _walk(
    obj: Mapping[str, Any], logical: tuple[str, ...], where: Location, out: list[Finding]
) -> Walk[None]:
    for key, value in obj.items():
        if key == "$or":
            for i, branch in enumerate(value):
                yield _walk(branch, logical, (*where, "$or", i), out)
            continue
        here = (*where, key)
        if "." in key:
            out.append(_finding("dotted-name", here, key=key, nested=" > ".join(key.split("."))))
        path = (*logical, key)
        if isinstance(value, Mapping):
            yield _walk(value, path, here, out)
        else:
            _check_leaf(path, here, value, out)


def _entry_kind(entry: Any) -> str:
    if isinstance(entry, bool):
        return "bool"
    if entry is None:
        return "null"
    if isinstance(entry, (int, float)):
        return "number"
    if isinstance(entry, str):
        return "string"
    return next(iter(entry))  # type: ignore[no-any-return]


def _check_leaf(
    path: tuple[str, ...], where: Location, entries: list[Any], out: list[Finding]
) -> None:
    for entry in entries:
        _check_operator(entry, where, out)
    top = path[0]
    if top in _UNDOCUMENTED_TOP:
        out.append(_finding("unfilterable-field", where, top=top))
    elif top not in _TOP:
        out.append(_finding("unknown-field", where, top=top))
    elif top == "eventName":
        _check_event_name(where, entries, out)
    elif top == "dynamodb":
        _check_dynamodb(path, where, entries, out)


def _check_operator(entry: Any, where: Location, out: list[Finding]) -> None:
    kind = _entry_kind(entry)
    found = support(entry)
    if found == "eventbridge":
        out.append(_finding("eventbridge-only", where, entry=dumps(entry)))
    elif found == "pipes":
        out.append(_finding("pipes-only", where, entry=dumps(entry), kind=kind))
    elif kind == "numeric":
        numbers = [t for t in entry["numeric"] if isinstance(t, (int, float))]
        if any(abs(n) > _NUMERIC_LIMIT for n in numbers):
            out.append(_finding("numeric-range", where))


def _check_event_name(where: Location, entries: list[Any], out: list[Finding]) -> None:
    for entry in entries:
        kind = _entry_kind(entry)
        if kind == "string" and entry not in EVENT_NAMES:
            out.append(_finding("unknown-event-name", where, entry=entry))
        elif kind in ("number", "numeric", "bool", "null"):
            out.append(_never(where, "eventName is a string", entry))


def _never(where: Location, why: str, entry: Any) -> Finding:
    return _finding("type-mismatch", where, why=why, entry=dumps(entry))


def _check_dynamodb(
    path: tuple[str, ...], where: Location, entries: list[Any], out: list[Finding]
) -> None:
    if len(path) < 2 or path[1] not in _DYNAMODB:
        out.append(_finding("unknown-dynamodb-field", where, field=".".join(path[1:2])))
        return
    section = path[1]
    if section in ("ApproximateCreationDateTime", "SizeBytes"):
        for entry in entries:
            if _entry_kind(entry) in ("string", "bool", "null", "prefix", "suffix"):
                out.append(_never(where, f"{section} is a JSON number", entry))
        return
    if section not in _IMAGES:
        return
    if len(path) == 2:
        out.append(_non_leaf(where, entries, f"dynamodb.{section}"))
        return
    _check_attribute(path[2:], where, entries, out)


def _check_attribute(
    rest: tuple[str, ...], where: Location, entries: list[Any], out: list[Finding]
) -> None:
    """``rest`` = attribute name, descriptor, [name, descriptor | descriptor ...]."""
    i = 1
    while True:
        if i >= len(rest):
            kinds = {_entry_kind(e) for e in entries}
            if kinds == {"null"}:
                out.append(_finding("null-on-attribute", where))
            elif kinds <= {"exists"}:
                out.append(_non_leaf(where, entries, f"attribute {rest[i - 1]!r}"))
            else:
                out.append(_finding("missing-descriptor", where))
            return
        descriptor = rest[i]
        if descriptor not in _DESCRIPTORS:
            out.append(_finding("unknown-descriptor", where, descriptor=descriptor))
            return
        if descriptor in ("M", "L") and i == len(rest) - 1:
            out.append(_non_leaf(where, entries, f"the {descriptor} of {rest[i - 1]!r}"))
            return
        if descriptor == "M":
            i += 2  # a member name, then its descriptor
            continue
        if descriptor == "L":
            i += 1  # list elements: a descriptor follows directly
            continue
        if i != len(rest) - 1:
            out.append(_finding("nested-under-scalar", where, descriptor=descriptor))
            return
        _check_values(descriptor, where, entries, out)
        return


def _non_leaf(where: Location, entries: list[Any], what: str) -> Finding:
    if all(_entry_kind(e) == "exists" and e["exists"] is False for e in entries):
        return _finding("absent-on-non-leaf", where, what=what)
    return _finding("exists-on-non-leaf", where, what=what)


_NOT_BOOL = ("string", "prefix", "suffix", "equals-ignore-case", "anything-but", "number")


def _check_values(descriptor: str, where: Location, entries: list[Any], out: list[Finding]) -> None:
    for entry in entries:
        kind = _entry_kind(entry)
        if kind == "numeric":
            out.append(_finding("numeric-on-string", where, descriptor=descriptor))
        elif descriptor in _STRINGS and (
            kind == "number" or (kind == "anything-but" and _numeric_anything_but(entry))
        ):
            canonical = _canonical(entry if kind == "number" else None)
            out.append(
                _finding(
                    "number-literal-on-string",
                    where,
                    descriptor=descriptor,
                    entry=dumps(entry),
                    canonical=canonical,
                )
            )
        elif descriptor == "BOOL" and kind in _NOT_BOOL:
            out.append(_finding("bool-as-string", where, entry=dumps(entry)))
        elif descriptor == "NULL" and kind not in ("bool", "exists"):
            out.append(_never(where, "a DynamoDB NULL is the JSON true", entry))
        elif descriptor in _STRINGS and kind in ("bool", "null"):
            out.append(_never(where, f"{descriptor} values are JSON strings", entry))
        elif descriptor in ("N", "NS") and kind == "string":
            _check_number_text(entry, where, out)


def _numeric_anything_but(entry: Mapping[str, Any]) -> bool:
    operand = entry["anything-but"]
    items = operand if isinstance(operand, list) else [operand]
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)


def _canonical(entry: Any) -> str:
    if entry is None or (isinstance(entry, float) and not math.isfinite(entry)):
        return ""
    try:
        return f' in DynamoDB\'s canonical form, e.g. "{canonical_number(Decimal(repr(entry)))}"'
    except (FilterNotExpressible, InvalidOperation):
        return ""


def _check_number_text(text: str, where: Location, out: list[Finding]) -> None:
    try:
        canonical = canonical_number(Decimal(text))
    except (InvalidOperation, ValueError):
        out.append(_never(where, "N values are numbers written as strings", text))
        return
    if canonical != text:
        out.append(_finding("non-canonical-number", where, text=text, canonical=canonical))


# ---------------------------------------------------------------------------------------------
# Per-combination checks ($or expanded)
# ---------------------------------------------------------------------------------------------

LeafAt = tuple[tuple[str, ...], Location, list[Any]]


def _combinations(
    obj: Mapping[str, Any], logical: tuple[str, ...], where: Location
) -> Walk[list[list[LeafAt]]]:
    out: list[list[LeafAt]] = [[]]
    for key, value in obj.items():
        if key == "$or":
            alternatives: list[list[LeafAt]] = []
            for i, branch in enumerate(value):
                alternatives += yield _combinations(branch, logical, (*where, "$or", i))
        elif isinstance(value, Mapping):
            alternatives = yield _combinations(value, (*logical, key), (*where, key))
        else:
            alternatives = [[((*logical, key), (*where, key), value)]]
        out = [a + b for a in out for b in alternatives][:MAX_COMBINATIONS]
    return out


def _event_names(leaves: list[LeafAt]) -> set[str]:
    allowed = set(EVENT_NAMES)
    for path, _, entries in leaves:
        if path == ("eventName",):
            test = value_test([parse_entry(e, ()) for e in entries])
            allowed &= {n for n in EVENT_NAMES if test(n)}
    return allowed


def _requires(entries: list[Any]) -> bool:
    """Whether the value list needs the leaf to exist (no exists:false alternative)."""
    return not any(_entry_kind(e) == "exists" and e["exists"] is False for e in entries)


_CARRIED: dict[str, tuple[str, ...]] = {
    StreamViewType.KEYS_ONLY: (),
    StreamViewType.NEW_IMAGE: ("NewImage",),
    StreamViewType.OLD_IMAGE: ("OldImage",),
}


def _check_combination(leaves: list[LeafAt], view: str | None, out: list[Finding]) -> None:
    names = _event_names(leaves)
    if not names:
        where = next(w for path, w, _ in leaves if path == ("eventName",))
        out.append(_finding("no-event-name", where))
        return
    for path, where, entries in leaves:
        if len(path) < 3 or path[0] != "dynamodb" or path[1] not in ("NewImage", "OldImage"):
            continue
        image = path[1]
        needs = _requires(entries)
        if image not in _CARRIED.get(view or "", ("NewImage", "OldImage")):
            rule = "image-not-in-stream" if needs else "absent-image-not-in-stream"
            out.append(_finding(rule, where, view=view, image=image))
        elif not needs:
            continue
        elif image == "OldImage" and names <= {EventName.INSERT}:
            out.append(_finding("image-on-insert", where))
        elif image == "NewImage" and names <= {EventName.REMOVE}:
            out.append(_finding("image-on-remove", where))
        elif image == "NewImage" and EventName.REMOVE in names:
            out.append(_finding("drops-remove", where))
