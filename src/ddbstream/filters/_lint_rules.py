"""The linter's rule table: every finding it can report, by rule, with its stable code, its
severity and its message (why, then ``Fix:``).

A rule's message is a :meth:`str.format` template filled by the check that reports it. Codes
are stable (users filter on them); a code may have two rules when its severity depends on the
case (``exists-on-non-leaf`` never matches with ``exists: true``, always with ``false``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .._errors import PathItem, format_path

__all__ = ["RULES", "Finding", "LintRule", "Severity"]

Severity = Literal["error", "warning"]


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


@dataclass(frozen=True, slots=True)
class LintRule:
    """One kind of finding: its ``code``, ``severity`` and message template."""

    code: str
    severity: Severity
    message: str


def _rule(code: str, severity: Severity, message: str) -> LintRule:
    return LintRule(code, severity, message)


RULES: dict[str, LintRule] = {
    "invalid-pattern": _rule(
        "invalid-pattern",
        "error",
        "AWS rejects this pattern (Lambda answers 'Invalid filter pattern definition.'): "
        "{reason}. Fix the pattern at this path.",
    ),
    "pattern-too-long": _rule(
        "pattern-too-long",
        "error",
        "{reason}. Fix: split it into several filters (they are ORed) or shorten value lists.",
    ),
    "too-many-combinations": _rule(
        "too-many-combinations",
        "error",
        "{reason}. Fix: move alternatives into separate filters (they are ORed) or use value "
        "lists instead of $or where one field varies.",
    ),
    "too-many-filters": _rule(
        "too-many-filters",
        "error",
        "{count} filters exceed Lambda's limit of {quota} per event source mapping; creating "
        "the mapping fails. Fix: {fix}.",
    ),
    "filter-quota": _rule(
        "filter-quota",
        "warning",
        "{count} filters need the raised quota (Lambda's default is 5 per event source "
        "mapping). Fix: confirm the account's quota, or combine patterns with $or.",
    ),
    "dotted-name": _rule(
        "dotted-name",
        "warning",
        "{key!r} contains a dot: event-ruler joins paths with dots, so it also matches the "
        "nested fields {nested}, and AWS says not to rely on dotted names. Fix: nest the "
        "objects; for a DynamoDB attribute whose name has a dot, double-check matches with a "
        "router predicate.",
    ),
    "unfilterable-field": _rule(
        "unfilterable-field",
        "warning",
        "Lambda documents DynamoDB filtering only on dynamodb, eventName, eventSource and "
        "userIdentity; EventBridge Pipes adds {top} after filtering, so this may never match. "
        "Fix: filter on dynamodb.Keys or the images instead.",
    ),
    "unknown-field": _rule(
        "unknown-field",
        "warning",
        "a DynamoDB stream record has no top-level field {top!r} (names are case-sensitive), "
        "so this never matches. Fix: use eventName, dynamodb.*, eventSource or userIdentity.",
    ),
    "unknown-dynamodb-field": _rule(
        "unknown-field",
        "warning",
        "the dynamodb object of a stream record has no field {field!r}; this never matches. "
        "Fix: use Keys, NewImage, OldImage, SizeBytes or ApproximateCreationDateTime (names "
        "are case-sensitive).",
    ),
    "eventbridge-only": _rule(
        "eventbridge-only",
        "error",
        "{entry} is an EventBridge-only operator: Lambda and EventBridge Pipes do not support "
        "it (it may be rejected or never match). Fix: use prefix/suffix/anything-but with plain "
        "values, or a router predicate.",
    ),
    "pipes-only": _rule(
        "pipes-only",
        "warning",
        "{entry} (case-insensitive {kind}) is documented for EventBridge Pipes only, not in "
        "Lambda's operator table. Fix: match the exact case, or check the result in a router "
        "predicate.",
    ),
    "numeric-range": _rule(
        "numeric-range",
        "warning",
        "EventBridge documents numeric matching only within -5.0e9..5.0e9 (15 significant "
        "digits); Lambda's limit is not documented. Fix: keep bounds within +-5e9.",
    ),
    "unknown-event-name": _rule(
        "unknown-event-name",
        "error",
        "eventName is always INSERT, MODIFY or REMOVE (upper case), so {entry!r} never "
        "matches. Fix: use one of those.",
    ),
    "type-mismatch": _rule(
        "type-mismatch",
        "error",
        "{why}, so {entry} never matches. Fix: compare with a value of that type.",
    ),
    "null-on-attribute": _rule(
        "null-on-attribute",
        "error",
        '[null] matches a JSON null, but a DynamoDB NULL is the descriptor {{"NULL": true}}, '
        'so this never matches. Fix: {{"<attr>": {{"NULL": [true]}}}}.',
    ),
    "missing-descriptor": _rule(
        "missing-descriptor",
        "error",
        'DynamoDB attributes carry a type descriptor ({{"S": "x"}}), so a value list directly '
        "on the attribute never matches. Fix: add the descriptor level, e.g. "
        '{{"status": {{"S": ["SHIPPED"]}}}} or {{"amount": {{"N": ["5"]}}}}.',
    ),
    "unknown-descriptor": _rule(
        "unknown-descriptor",
        "error",
        "{descriptor!r} is not a DynamoDB type descriptor (S, N, B, BOOL, NULL, M, L, SS, NS, "
        "BS; case-sensitive), so this never matches. Fix: use the attribute's descriptor.",
    ),
    "nested-under-scalar": _rule(
        "unknown-descriptor",
        "error",
        "{descriptor} holds a scalar, not nested fields, so this never matches. Fix: put the "
        "value list directly under the descriptor.",
    ),
    "exists-on-non-leaf": _rule(
        "exists-on-non-leaf",
        "error",
        "{what} is an object (a non-leaf), so this never matches: exists and values only test "
        'leaves. Fix: test the descriptor, e.g. {{"status": {{"S": [{{"exists": true}}]}}}}.',
    ),
    "absent-on-non-leaf": _rule(
        "exists-on-non-leaf",
        "warning",
        "exists:false on {what} always matches: it is an object, and exists only tests "
        'leaves. Fix: test the descriptor, e.g. {{"status": {{"S": [{{"exists": false}}]}}}}.',
    ),
    "numeric-on-string": _rule(
        "numeric-on-string",
        "error",
        "Lambda sees {descriptor} values as JSON strings, so numeric comparisons never match "
        "them (AWS accepts the pattern anyway). Fix: compare exact text "
        '({{"N": ["250"]}}) or use a router predicate, e.g. '
        "where(lambda r: r.new_image['amount'] > 250).",
    ),
    "number-literal-on-string": _rule(
        "number-literal-on-string",
        "error",
        "{descriptor} values are JSON strings, so the number {entry} never matches. Fix: "
        "write the number as a string{canonical}.",
    ),
    "bool-as-string": _rule(
        "bool-as-string",
        "error",
        "BOOL values are JSON true/false, so {entry} never matches. "
        'Fix: {{"BOOL": [true]}} (not "true").',
    ),
    "non-canonical-number": _rule(
        "non-canonical-number",
        "warning",
        "DynamoDB stores numbers without leading/trailing zeros or exponents and Lambda "
        "compares the text, so {text!r} never matches. Fix: {canonical!r}.",
    ),
    "no-event-name": _rule(
        "no-event-name",
        "error",
        "the eventName conditions admit none of INSERT, MODIFY and REMOVE, so this never "
        "matches. Fix: list the event names to keep.",
    ),
    "image-not-in-stream": _rule(
        "image-not-in-stream",
        "error",
        "a {view} stream carries no {image}, so this condition never matches. Fix: filter on "
        "dynamodb.Keys or eventName, or change the table's StreamViewType.",
    ),
    "absent-image-not-in-stream": _rule(
        "image-not-in-stream",
        "warning",
        "a {view} stream carries no {image}, so this condition always holds. Fix: filter on "
        "dynamodb.Keys or eventName, or change the table's StreamViewType.",
    ),
    "image-on-insert": _rule(
        "image-on-insert",
        "error",
        "INSERT records never have an OldImage, and this filter only admits INSERT, so it "
        "never matches. Fix: test the NewImage instead.",
    ),
    "image-on-remove": _rule(
        "image-on-remove",
        "error",
        "REMOVE records never have an NewImage, and this filter only admits REMOVE, so it "
        "never matches. Fix: test the OldImage or Keys instead.",
    ),
    "drops-remove": _rule(
        "drops-remove",
        "warning",
        "REMOVE records have no NewImage, so this filter silently drops every delete. Fix: "
        "restrict eventName to INSERT/MODIFY to say so, or add a separate filter for REMOVE "
        "on Keys or OldImage.",
    ),
}
