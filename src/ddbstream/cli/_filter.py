"""``ddbstream filter check|lint|export``: plain functions returning ``(exit_code, output_text)``,
and the argument parsing that calls them.

Exit codes: 0 success (``check``: at least one record matched; ``lint``: no findings),
1 the negative answer (``check``: no record matched; ``lint``: findings), 2 unusable input
(invalid pattern or event, unknown format).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import DDBStreamError, InvalidPattern
from ..filters import (
    Filter,
    FilterCriteria,
    lint,
    to_cdk,
    to_cloudformation,
    to_serverless,
    to_terraform,
)
from ._common import Exit, read_json, read_text

__all__ = ["EXPORT_FORMATS", "add_parser", "check", "command", "export", "lint_command", "load"]

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


def add_parser(sub: Any) -> None:
    filt = sub.add_parser("filter", help="check, lint and export FilterCriteria patterns")
    fsub = filt.add_subparsers(dest="filter_command", required=True)
    check_cmd = fsub.add_parser("check", help="which records of an event a pattern lets through")
    check_cmd.add_argument("pattern", help="pattern or criteria: a file, inline JSON, or - (stdin)")
    check_cmd.add_argument("event", help="event or record: a file, inline JSON, or - (stdin)")
    lint_cmd = fsub.add_parser("lint", help="findings for a pattern AWS rejects or never matches")
    lint_cmd.add_argument("pattern")
    lint_cmd.add_argument("--stream-view-type", default=None)
    export_cmd = fsub.add_parser("export", help="render a pattern for an infrastructure tool")
    export_cmd.add_argument("pattern")
    export_cmd.add_argument("--format", required=True, choices=list(EXPORT_FORMATS))


def command(args: argparse.Namespace) -> int:
    if args.filter_command == "check":
        status, text = check(read_text(args.pattern, "pattern"), read_json(args.event, "the event"))
    elif args.filter_command == "lint":
        status, text = lint_command(read_text(args.pattern, "pattern"), args.stream_view_type)
    else:
        status, text = export(read_text(args.pattern, "pattern"), args.format)
    if status == 2:
        raise Exit(text.strip().removeprefix("error:").strip())
    sys.stdout.write(text)
    return status
