"""The work behind ``ddbstream filter check|lint|export``: plain functions returning
``(exit_code, output_text)``, so the CLI only parses arguments and prints.

Exit codes: 0 success (``check``: at least one record matched; ``lint``: no findings),
1 the negative answer (``check``: no record matched; ``lint``: findings), 2 unusable input
(invalid pattern or event, unknown format).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import DDBStreamError, InvalidPattern
from ._criteria import Filter, FilterCriteria
from ._export import to_cdk, to_cloudformation, to_serverless, to_terraform

__all__ = ["EXPORT_FORMATS", "check", "export", "lint_command", "load"]

EXPORT_FORMATS: dict[str, Callable[[FilterCriteria], str]] = {
    "cloudformation": to_cloudformation,
    "sam": to_cloudformation,
    "cdk": to_cdk,
    "serverless": to_serverless,
    "terraform": to_terraform,
    "json": lambda criteria: json.dumps(criteria.to_dict(), indent=2) + "\n",
}


def load(text: str, *, max_filters: int = 10) -> FilterCriteria:
    """Read a single pattern or a whole ``{"Filters": [...]}`` criteria from JSON text.

    Raises:
        InvalidPattern: not JSON, or an invalid pattern / criteria.
    """
    stripped = text.strip()
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        data = None  # Filter.from_pattern reports the JSON error with event-ruler's wording
    if isinstance(data, Mapping) and set(data) in ({"Filters"}, {"filters"}):
        return FilterCriteria.from_dict(data, max_filters=max_filters)
    return FilterCriteria([Filter.from_pattern(stripped)], max_filters=max_filters)


def _records(event: Any) -> list[Any]:
    if isinstance(event, Mapping) and isinstance(event.get("Records"), list):
        return list(event["Records"])
    if isinstance(event, list):
        return event
    if isinstance(event, Mapping):
        return [event]
    raise InvalidPattern('the event must be {"Records": [...]}, a list of records or a record')


def _label(index: int, record: Any) -> str:
    if not isinstance(record, Mapping):
        return f"record {index}"
    parts = [str(record[k]) for k in ("eventName", "eventID") if isinstance(record.get(k), str)]
    dynamodb = record.get("dynamodb")
    if isinstance(dynamodb, Mapping) and isinstance(dynamodb.get("SequenceNumber"), str):
        parts.append(f"SequenceNumber={dynamodb['SequenceNumber']}")
    return f"record {index}" + (f" ({', '.join(parts)})" if parts else "")


def check(pattern_text: str, event_obj: Any) -> tuple[int, str]:
    """Which records of ``event_obj`` the pattern (or criteria) lets through, and why not.

    Args:
        pattern_text: a pattern, or ``{"Filters": [{"Pattern": ...}]}``, as JSON text.
        event_obj: a parsed Lambda event (``{"Records": [...]}``), a list of records or one
            record.

    Returns:
        ``(0, report)`` if some record matches, ``(1, report)`` if none does, ``(2, error)``
        for an invalid pattern or event.
    """
    try:
        criteria = load(pattern_text)
        records = _records(event_obj)
    except DDBStreamError as exc:
        return 2, f"error: {exc}\n"
    lines = []
    matched = 0
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            lines.append(f"{_label(index, record)}: not a record object")
            continue
        reason = criteria.explain(record)
        if reason is None:
            matched += 1
            lines.append(f"{_label(index, record)}: match")
        else:
            lines.append(f"{_label(index, record)}: no match: {reason}")
    lines.append(f"{matched} of {len(records)} records match")
    return (0 if matched else 1), "\n".join(lines) + "\n"


def lint_command(pattern_text: str, stream_view_type: str | None = None) -> tuple[int, str]:
    """Lint a pattern or criteria with :func:`ddbstream.filters.lint`, one finding a line.

    Returns:
        ``(0, "no findings")``, ``(1, findings)`` or ``(2, error)`` for an invalid pattern
        (reported with event-ruler's reason and the location inside the pattern).
    """
    # written alongside the DSL; imported by name so this module never needs it at import time
    lint = importlib.import_module("ddbstream.filters._lint").lint

    try:
        criteria = load(pattern_text)
    except InvalidPattern as exc:
        return 2, f"error: invalid pattern: {exc}\n"
    except DDBStreamError as exc:
        return 2, f"error: {exc}\n"
    target: Filter | FilterCriteria = criteria
    if len(criteria.filters) == 1:
        target = criteria.filters[0]
    findings = list(lint(target, stream_view_type=stream_view_type))
    if not findings:
        return 0, "no findings\n"
    return 1, "".join(f"{finding}\n" for finding in findings)


def export(pattern_or_criteria_text: str, fmt: str) -> tuple[int, str]:
    """Render a pattern or criteria as ``cloudformation``, ``sam``, ``cdk``, ``serverless``,
    ``terraform`` or ``json``.

    Returns:
        ``(0, text)``, or ``(2, error)`` for an unknown format or an invalid pattern.
    """
    render = EXPORT_FORMATS.get(fmt)
    if render is None:
        return 2, f"error: unknown format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}\n"
    try:
        criteria = load(pattern_or_criteria_text)
    except DDBStreamError as exc:
        return 2, f"error: {exc}\n"
    return 0, render(criteria)
