"""Lint Lambda filter patterns for DynamoDB streams: what AWS rejects, what never matches.

AWS accepts many patterns that can never match a DynamoDB stream record (a numeric test on an
``N`` value, ``exists`` on an attribute instead of its descriptor, ``[null]`` for a DynamoDB
NULL) and some that silently drop records (a NewImage condition drops every REMOVE).
:func:`lint` finds them; every :class:`Finding` says why and how to fix it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from .._errors import FilterNotExpressible, InvalidPattern, PathItem, UsageError, format_path
from ._attribute import canonical_number
from ._criteria import Filter, FilterCriteria
from ._expr import Expression

__all__ = ["Finding", "lint"]

Severity = Literal["error", "warning"]
_EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
_TOP = {"dynamodb", "eventName", "eventSource", "userIdentity"}
_UNDOCUMENTED_TOP = {"awsRegion", "eventSourceARN", "eventID", "eventVersion"}
_DYNAMODB = {
    "Keys", "NewImage", "OldImage", "ApproximateCreationDateTime", "SizeBytes",
    "SequenceNumber", "StreamViewType",
}  # fmt: skip
_IMAGES = ("Keys", "NewImage", "OldImage")
_STRINGS = {"S", "N", "B", "SS", "NS", "BS"}
_DESCRIPTORS = {*_STRINGS, "BOOL", "NULL", "M", "L"}
_EB_ONLY = {"wildcard", "cidr", "exactly"}
_NUMERIC_LIMIT = 5e9
_MAX_COMBINATIONS = 1000


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a filter pattern.

    Attributes:
        severity: ``"error"`` (AWS rejects it, or it can never match) or ``"warning"``.
        code: a stable short identifier, e.g. ``"numeric-on-string"``.
        path: where in the pattern, e.g. ``("dynamodb", "NewImage", "amount", "N")``.
        message: why it is a problem and how to fix it.
        filter: index of the filter in a criteria (``None`` for a single pattern).

    Example:
        >>> from ddbstream.filters import lint
        >>> pattern = {"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}}
        >>> [finding.code for finding in lint(pattern)]
        ['numeric-on-string', 'drops-remove']
    """

    severity: Severity
    code: str
    path: tuple[PathItem, ...]
    message: str
    filter: int | None = None

    def __str__(self) -> str:
        where = format_path(self.path) or "(pattern)"
        if self.filter is not None:
            where = f"filter {self.filter}: {where}"
        return f"{self.severity} {self.code} at {where}: {self.message}"


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _inputs(target: object) -> tuple[list[Any], int]:
    """The patterns to lint (text or mappings) and the filter quota that applies."""
    if isinstance(target, FilterCriteria):
        return [f.to_json() for f in target], target.max_filters
    if isinstance(target, Filter):
        return [target.to_json()], 5
    if isinstance(target, Expression):
        from ._compile import compile_filters

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
    if view not in (None, "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        raise UsageError(f"{stream_view_type=} is not a DynamoDB StreamViewType")
    patterns, quota = _inputs(target)
    findings: list[Finding] = []
    if len(patterns) > quota:
        findings.append(_too_many(len(patterns), quota))
    elif len(patterns) > 5:
        findings.append(
            Finding(
                "warning",
                "filter-quota",
                (),
                f"{len(patterns)} filters need the raised quota (Lambda's default is 5 per "
                "event source mapping). Fix: confirm the account's quota, or combine patterns "
                "with $or.",
            )
        )
    for index, pattern in enumerate(patterns):
        where = index if len(patterns) > 1 or isinstance(target, FilterCriteria) else None
        found = _lint_one(pattern, view)
        findings.extend(_with_filter(f, where) for f in found)
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: (f.severity != "error", f.filter or 0))


def _with_filter(finding: Finding, index: int | None) -> Finding:
    return Finding(finding.severity, finding.code, finding.path, finding.message, index)


def _too_many(count: int, quota: int) -> Finding:
    if quota < 10:
        fix = "combine patterns with $or, or request the quota increase (10 at most)"
    else:
        fix = "combine patterns with $or"
    return Finding(
        "error",
        "too-many-filters",
        (),
        f"{count} filters exceed Lambda's limit of {quota} per event source mapping; "
        f"creating the mapping fails. Fix: {fix}.",
    )


def _lint_one(pattern: Any, view: str | None) -> list[Finding]:
    try:
        parsed = Filter.from_pattern(pattern).to_pattern()
    except InvalidPattern as exc:
        return [_rejected(exc)]
    out: list[Finding] = []
    _walk(parsed, (), (), out)
    for combination in _combinations(parsed, (), ()):
        _check_combination(combination, view, out)
    return out


def _rejected(exc: InvalidPattern) -> Finding:
    if exc.reason.startswith("Pattern is"):
        return Finding(
            "error",
            "pattern-too-long",
            exc.path,
            f"{exc.reason}. Fix: split it into several filters (they are ORed) or shorten "
            "value lists.",
        )
    return Finding(
        "error",
        "invalid-pattern",
        exc.path,
        f"AWS rejects this pattern (Lambda answers 'Invalid filter pattern definition.'): "
        f"{exc.reason.rstrip('.')}. Fix the pattern at this path.",
    )


# ---------------------------------------------------------------------------------------------
# Per-path checks
# ---------------------------------------------------------------------------------------------

Where = tuple[PathItem, ...]


def _walk(
    obj: Mapping[str, Any], logical: tuple[str, ...], where: Where, out: list[Finding]
) -> None:
    for key, value in obj.items():
        if key == "$or":
            for i, branch in enumerate(value):
                _walk(branch, logical, (*where, "$or", i), out)
            continue
        here = (*where, key)
        if "." in key:
            out.append(
                Finding(
                    "warning",
                    "dotted-name",
                    here,
                    f"{key!r} contains a dot: event-ruler joins paths with dots, so it also "
                    f"matches the nested fields {' > '.join(key.split('.'))}, and AWS says "
                    "not to rely on dotted names. Fix: nest the objects; for a DynamoDB "
                    "attribute whose name has a dot, double-check matches with a router "
                    "predicate.",
                )
            )
        path = (*logical, key)
        if isinstance(value, Mapping):
            _walk(value, path, here, out)
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
    path: tuple[str, ...], where: Where, entries: list[Any], out: list[Finding]
) -> None:
    for entry in entries:
        _check_operator(entry, where, out)
    top = path[0]
    if top in _UNDOCUMENTED_TOP:
        out.append(
            Finding(
                "warning",
                "unfilterable-field",
                where,
                f"Lambda documents DynamoDB filtering only on dynamodb, eventName, eventSource "
                f"and userIdentity; EventBridge Pipes adds {top} after filtering, so this may "
                "never match. Fix: filter on dynamodb.Keys or the images instead.",
            )
        )
    elif top not in _TOP:
        out.append(
            Finding(
                "warning",
                "unknown-field",
                where,
                f"a DynamoDB stream record has no top-level field {top!r} (names are "
                "case-sensitive), so this never matches. Fix: use eventName, dynamodb.*, "
                "eventSource or userIdentity.",
            )
        )
    elif top == "eventName":
        _check_event_name(where, entries, out)
    elif top == "dynamodb":
        _check_dynamodb(path, where, entries, out)


def _check_operator(entry: Any, where: Where, out: list[Finding]) -> None:
    kind = _entry_kind(entry)
    if kind in _EB_ONLY or (kind == "anything-but" and isinstance(entry[kind], Mapping)):
        out.append(
            Finding(
                "error",
                "eventbridge-only",
                where,
                f"{json.dumps(entry)} is an EventBridge-only operator: Lambda and EventBridge "
                "Pipes do not support it (it may be rejected or never match). Fix: use "
                "prefix/suffix/anything-but with plain values, or a router predicate.",
            )
        )
    elif kind in ("prefix", "suffix") and isinstance(entry[kind], Mapping):
        out.append(
            Finding(
                "warning",
                "pipes-only",
                where,
                f"{json.dumps(entry)} (case-insensitive {kind}) is documented for EventBridge "
                "Pipes only, not in Lambda's operator table. Fix: match the exact case, or "
                "check the result in a router predicate.",
            )
        )
    elif kind == "numeric":
        numbers = [t for t in entry["numeric"] if isinstance(t, (int, float))]
        if any(abs(n) > _NUMERIC_LIMIT for n in numbers):
            out.append(
                Finding(
                    "warning",
                    "numeric-range",
                    where,
                    "EventBridge documents numeric matching only within -5.0e9..5.0e9 (15 "
                    "significant digits); Lambda's limit is not documented. Fix: keep bounds "
                    "within +-5e9.",
                )
            )


def _check_event_name(where: Where, entries: list[Any], out: list[Finding]) -> None:
    for entry in entries:
        kind = _entry_kind(entry)
        if kind == "string" and entry not in _EVENT_NAMES:
            out.append(
                Finding(
                    "error",
                    "unknown-event-name",
                    where,
                    f"eventName is always INSERT, MODIFY or REMOVE (upper case), so "
                    f"{entry!r} never matches. Fix: use one of those.",
                )
            )
        elif kind in ("number", "numeric", "bool", "null"):
            out.append(_never(where, "eventName is a string", entry))


def _never(where: Where, why: str, entry: Any) -> Finding:
    return Finding(
        "error",
        "type-mismatch",
        where,
        f"{why}, so {json.dumps(entry)} never matches. Fix: compare with a value of that type.",
    )


def _check_dynamodb(
    path: tuple[str, ...], where: Where, entries: list[Any], out: list[Finding]
) -> None:
    if len(path) < 2 or path[1] not in _DYNAMODB:
        out.append(
            Finding(
                "warning",
                "unknown-field",
                where,
                f"the dynamodb object of a stream record has no field {'.'.join(path[1:2])!r}; "
                "this never matches. Fix: use Keys, NewImage, OldImage, SizeBytes or "
                "ApproximateCreationDateTime (names are case-sensitive).",
            )
        )
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
    rest: tuple[str, ...], where: Where, entries: list[Any], out: list[Finding]
) -> None:
    """``rest`` = attribute name, descriptor, [name, descriptor | descriptor ...]."""
    i = 1
    while True:
        if i >= len(rest):
            kinds = {_entry_kind(e) for e in entries}
            if kinds == {"null"}:
                out.append(
                    Finding(
                        "error",
                        "null-on-attribute",
                        where,
                        "[null] matches a JSON null, but a DynamoDB NULL is the descriptor "
                        '{"NULL": true}, so this never matches. Fix: {"<attr>": {"NULL": [true]}}.',
                    )
                )
            elif kinds <= {"exists"}:
                out.append(_non_leaf(where, entries, f"attribute {rest[i - 1]!r}"))
            else:
                out.append(
                    Finding(
                        "error",
                        "missing-descriptor",
                        where,
                        'DynamoDB attributes carry a type descriptor ({"S": "x"}), so a value '
                        "list directly on the attribute never matches. Fix: add the descriptor "
                        'level, e.g. {"status": {"S": ["SHIPPED"]}} or {"amount": {"N": ["5"]}}.',
                    )
                )
            return
        descriptor = rest[i]
        if descriptor not in _DESCRIPTORS:
            out.append(
                Finding(
                    "error",
                    "unknown-descriptor",
                    where,
                    f"{descriptor!r} is not a DynamoDB type descriptor (S, N, B, BOOL, NULL, M, L, "
                    "SS, NS, BS; case-sensitive), so this never matches. Fix: use the "
                    "attribute's descriptor.",
                )
            )
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
            out.append(
                Finding(
                    "error",
                    "unknown-descriptor",
                    where,
                    f"{descriptor} holds a scalar, not nested fields, so this never matches. Fix: "
                    "put the value list directly under the descriptor.",
                )
            )
            return
        _check_values(descriptor, where, entries, out)
        return


def _non_leaf(where: Where, entries: list[Any], what: str) -> Finding:
    if all(_entry_kind(e) == "exists" and e["exists"] is False for e in entries):
        return Finding(
            "warning",
            "exists-on-non-leaf",
            where,
            f"exists:false on {what} always matches: it is an object, and exists only tests "
            'leaves. Fix: test the descriptor, e.g. {"status": {"S": [{"exists": false}]}}.',
        )
    return Finding(
        "error",
        "exists-on-non-leaf",
        where,
        f"{what} is an object (a non-leaf), so this never matches: exists and values only "
        'test leaves. Fix: test the descriptor, e.g. {"status": {"S": [{"exists": true}]}}.',
    )


def _check_values(descriptor: str, where: Where, entries: list[Any], out: list[Finding]) -> None:
    for entry in entries:
        kind = _entry_kind(entry)
        if kind == "numeric":
            out.append(
                Finding(
                    "error",
                    "numeric-on-string",
                    where,
                    f"Lambda sees {descriptor} values as JSON strings, so numeric comparisons "
                    "never match them (AWS accepts the pattern anyway). Fix: compare exact "
                    'text ({"N": ["250"]}) or use a router predicate, e.g. '
                    "where(lambda r: r.new_image['amount'] > 250).",
                )
            )
        elif descriptor in _STRINGS and (
            kind == "number" or (kind == "anything-but" and _numeric_anything_but(entry))
        ):
            text = _canonical(entry if kind == "number" else None)
            out.append(
                Finding(
                    "error",
                    "number-literal-on-string",
                    where,
                    f"{descriptor} values are JSON strings, so the number {json.dumps(entry)} "
                    f"never matches. Fix: write the number as a string{text}.",
                )
            )
        elif descriptor == "BOOL" and kind in (
            "string",
            "prefix",
            "suffix",
            "equals-ignore-case",
            "anything-but",
            "number",
        ):
            out.append(
                Finding(
                    "error",
                    "bool-as-string",
                    where,
                    f"BOOL values are JSON true/false, so {json.dumps(entry)} never matches. "
                    'Fix: {"BOOL": [true]} (not "true").',
                )
            )
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


def _check_number_text(text: str, where: Where, out: list[Finding]) -> None:
    try:
        canonical = canonical_number(Decimal(text))
    except (InvalidOperation, ValueError):
        out.append(_never(where, "N values are numbers written as strings", text))
        return
    if canonical != text:
        out.append(
            Finding(
                "warning",
                "non-canonical-number",
                where,
                f"DynamoDB stores numbers without leading/trailing zeros or exponents and "
                f"Lambda compares the text, so {text!r} never matches. Fix: {canonical!r}.",
            )
        )


# ---------------------------------------------------------------------------------------------
# Per-combination checks ($or expanded)
# ---------------------------------------------------------------------------------------------

Leaf = tuple[tuple[str, ...], Where, list[Any]]


def _combinations(
    obj: Mapping[str, Any], logical: tuple[str, ...], where: Where
) -> list[list[Leaf]]:
    out: list[list[Leaf]] = [[]]
    for key, value in obj.items():
        if key == "$or":
            alternatives: list[list[Leaf]] = []
            for i, branch in enumerate(value):
                alternatives += _combinations(branch, logical, (*where, "$or", i))
        elif isinstance(value, Mapping):
            alternatives = _combinations(value, (*logical, key), (*where, key))
        else:
            alternatives = [[((*logical, key), (*where, key), value)]]
        out = [a + b for a in out for b in alternatives][:_MAX_COMBINATIONS]
    return out


def _event_names(leaves: list[Leaf]) -> set[str]:
    allowed = set(_EVENT_NAMES)
    for path, _, entries in leaves:
        if path == ("eventName",):
            test = Filter.from_pattern({"eventName": entries})
            allowed &= {n for n in _EVENT_NAMES if test.matches({"eventName": n})}
    return allowed


def _requires(entries: list[Any]) -> bool:
    """Whether the value list needs the leaf to exist (no exists:false alternative)."""
    return not any(_entry_kind(e) == "exists" and e["exists"] is False for e in entries)


def _check_combination(leaves: list[Leaf], view: str | None, out: list[Finding]) -> None:
    names = _event_names(leaves)
    if not names:
        where = next(w for path, w, _ in leaves if path == ("eventName",))
        out.append(
            Finding(
                "error",
                "no-event-name",
                where,
                "the eventName conditions admit none of INSERT, MODIFY and REMOVE, so this "
                "never matches. Fix: list the event names to keep.",
            )
        )
        return
    for path, where, entries in leaves:
        if len(path) < 3 or path[0] != "dynamodb" or path[1] not in ("NewImage", "OldImage"):
            continue
        image = path[1]
        needs = _requires(entries)
        carried = {
            "KEYS_ONLY": (),
            "NEW_IMAGE": ("NewImage",),
            "OLD_IMAGE": ("OldImage",),
        }.get(view or "", ("NewImage", "OldImage"))
        if image not in carried:
            out.append(
                Finding(
                    "error" if needs else "warning",
                    "image-not-in-stream",
                    where,
                    f"a {view} stream carries no {image}, so this condition "
                    f"{'never matches' if needs else 'always holds'}. Fix: filter on "
                    "dynamodb.Keys or eventName, or change the table's StreamViewType.",
                )
            )
            continue
        if not needs:
            continue
        if image == "OldImage" and names and names <= {"INSERT"}:
            out.append(_contradiction(where, "INSERT", "OldImage", "NewImage"))
        elif image == "NewImage" and names and names <= {"REMOVE"}:
            out.append(_contradiction(where, "REMOVE", "NewImage", "OldImage or Keys"))
        elif image == "NewImage" and "REMOVE" in names:
            out.append(
                Finding(
                    "warning",
                    "drops-remove",
                    where,
                    "REMOVE records have no NewImage, so this filter silently drops every "
                    "delete. Fix: restrict eventName to INSERT/MODIFY to say so, or add a "
                    "separate filter for REMOVE on Keys or OldImage.",
                )
            )


def _contradiction(where: Where, event: str, image: str, instead: str) -> Finding:
    return Finding(
        "error",
        "image-on-" + event.lower(),
        where,
        f"{event} records never have an {image}, and this filter only admits {event}, so it "
        f"never matches. Fix: test the {instead} instead.",
    )
