"""Render a :class:`FilterCriteria` for infrastructure tools: CloudFormation/SAM, CDK (Python),
Serverless Framework and Terraform. Text is emitted by hand (no YAML library at runtime) and
quoted so that each tool reads back exactly the patterns of :meth:`FilterCriteria.to_dict`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from ._criteria import Filter, FilterCriteria
from ._json import Walk, run

__all__ = ["to_cdk", "to_cloudformation", "to_serverless", "to_terraform"]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_YAML_RESERVED = frozenset(
    word
    for base in ("true", "false", "yes", "no", "on", "off", "null", "y", "n")
    for word in (base, base.upper(), base.capitalize())
) | {"~", "<<"}


def _criteria(value: FilterCriteria | Filter) -> FilterCriteria:
    return FilterCriteria([value]) if isinstance(value, Filter) else value


_LINE = 100  # ruff's (and this project's) line length, for the CDK code

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _quoted(text: str, *, hcl: bool = False) -> str:
    """A double-quoted YAML or HCL string: both read ``\\uXXXX``, ``\\n``, ``\\"`` and ``\\\\``.

    Characters that YAML 1.1 or HCL could misread (controls, NEL, line separators,
    surrogates, BOM) are escaped; other text is kept literally.
    """
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)
            or 0xD800 <= code <= 0xDFFF
        ):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    body = "".join(out)
    if hcl:
        body = body.replace("${", "$${").replace("%{", "%%{")
    return f'"{body}"'


def _yaml_string(text: str) -> str:
    """A YAML scalar for ``text``: single-quoted when that is safe, else double-quoted."""
    if text.isascii() and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return _quoted(text)


def _yaml_flow(value: Any) -> Walk[str]:
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            items.append(f"{_quoted(k)}: {(yield _yaml_flow(v))}")
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        parts = []
        for v in value:
            parts.append((yield _yaml_flow(v)))
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, str):
        return _quoted(value)
    return json.dumps(value)  # numbers, true, false, null


def _yaml_key(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key) and key not in _YAML_RESERVED:
        return key
    return _quoted(key)


def to_cloudformation(criteria: FilterCriteria | Filter, *, indent: int = 0) -> str:
    """The ``FilterCriteria`` property block, in YAML, for CloudFormation and SAM.

    It fits ``AWS::Lambda::EventSourceMapping`` properties and the ``Properties`` of a SAM
    ``DynamoDB`` event alike. Each ``Pattern`` is the compact JSON string Lambda takes.

    Args:
        criteria: the criteria (or a single filter).
        indent: spaces to put before every line, to paste it into a template.

    Returns:
        YAML text ending with a newline.

    Example:
        >>> from ddbstream.filters import Filter, to_cloudformation
        >>> print(to_cloudformation(Filter.from_pattern({"eventName": ["INSERT"]})), end="")
        FilterCriteria:
          Filters:
            - Pattern: '{"eventName":["INSERT"]}'
    """
    pad = " " * indent
    filters = _criteria(criteria).filters
    if not filters:
        return f"{pad}FilterCriteria:\n{pad}  Filters: []\n"
    lines = [f"{pad}FilterCriteria:", f"{pad}  Filters:"]
    lines += [f"{pad}    - Pattern: {_yaml_string(f.to_json())}" for f in filters]
    return "\n".join(lines) + "\n"


def _yaml_block(value: Any, depth: int, lines: list[str]) -> Walk[None]:
    pad = "  " * depth
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{pad}{_yaml_key(key)}:")
            yield _yaml_block(item, depth + 1, lines)
        else:  # a leaf array or an $or list: flow style, JSON-quoted (valid YAML)
            lines.append(f"{pad}{_yaml_key(key)}: {(yield _yaml_flow(item))}")


def to_serverless(criteria: FilterCriteria | Filter, *, indent: int = 0) -> str:
    """The Serverless Framework ``filterPatterns`` list of a ``stream`` event, in YAML.

    Serverless takes each pattern as a YAML object (it serializes it itself).

    Example:
        >>> from ddbstream.filters import Filter, to_serverless
        >>> print(to_serverless(Filter.from_pattern({"eventName": ["INSERT"]})), end="")
        filterPatterns:
          - eventName: ["INSERT"]
    """
    pad = " " * indent
    filters = _criteria(criteria).filters
    if not filters:
        return f"{pad}filterPatterns: []\n"
    lines = [f"{pad}filterPatterns:"]
    for f in filters:
        block: list[str] = []
        run(_yaml_block(f.to_pattern(), 0, block))
        lines.append(f"{pad}  - {block[0]}")
        lines += [f"{pad}    {line}" for line in block[1:]]
    return "\n".join(lines) + "\n"


def _python(value: Any, depth: int, lead: int) -> Walk[str]:
    """Python source for a JSON value, as ``ruff format`` (line length 100) writes it:
    objects one key a line, scalar lists on one line when the line (``lead`` characters before
    the value, one after) fits, else one item a line. Every expanded collection ends with a
    comma, so formatters keep it expanded."""
    pad, inner = "    " * depth, "    " * (depth + 1)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = f"{inner}{_pystr(k)}: "
            items.append(f"{key}{(yield _python(v, depth + 1, _width(key)))},")
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        scalars = all(not isinstance(v, (dict, list)) for v in value)
        flat = "[" + ", ".join(_scalar_python(v) for v in value) + "]" if scalars else ""
        if scalars and lead + _width(flat) + 1 <= _LINE:
            return flat
        items = []
        for v in value:
            items.append(f"{inner}{(yield _python(v, depth + 1, len(inner)))},")
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    return _scalar_python(value)


def _width(text: str) -> int:
    """Columns a line takes in an editor (and for ruff): wide characters count two."""
    return sum(
        2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
        for c in text
    )


def _scalar_python(value: Any) -> str:
    return _pystr(value) if isinstance(value, str) else repr(value)


def _pystr(text: str) -> str:
    """A Python string literal as ruff writes it: double quotes unless that needs more
    escapes than single quotes."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for char in text:
        if char == "\\" or char == quote:
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])  # \n, \x00, \u2028...
    return quote + "".join(out) + quote


def to_cdk(criteria: FilterCriteria | Filter) -> str:
    """Python CDK code: ``filters = [lambda_.FilterCriteria.filter({...}), ...]``.

    Pass ``filters`` to ``aws_lambda_event_sources.DynamoEventSource(..., filters=filters)``;
    ``FilterCriteria.filter`` stringifies each dict exactly as Lambda expects.

    Example:
        >>> from ddbstream.filters import Filter, to_cdk
        >>> print(to_cdk(Filter.from_pattern({"eventName": ["INSERT"]})), end="")
        from aws_cdk import aws_lambda as lambda_
        <BLANKLINE>
        filters = [
            lambda_.FilterCriteria.filter(
                {
                    "eventName": ["INSERT"],
                }
            ),
        ]
    """
    lines = ["from aws_cdk import aws_lambda as lambda_", "", "filters = ["]
    for f in _criteria(criteria).filters:
        pattern = run(_python(f.to_pattern(), 2, 8))
        lines += ["    lambda_.FilterCriteria.filter(", f"        {pattern}", "    ),"]
    lines.append("]")
    return "\n".join(lines) + "\n"


def _hcl(value: Any, depth: int) -> Walk[str]:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            items.append(f"{inner}{_quoted(k, hcl=True)} = {(yield _hcl(v, depth + 1))}")
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        parts = []
        for v in value:
            parts.append((yield _hcl(v, depth)))
        return "[" + ", ".join(parts) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quoted(value, hcl=True)
    return json.dumps(value)


def to_terraform(criteria: FilterCriteria | Filter, *, indent: int = 0) -> str:
    """The ``filter_criteria`` block of an ``aws_lambda_event_source_mapping`` (HCL).

    Each pattern is written as ``pattern = jsonencode({...})``. Terraform's ``jsonencode``
    sorts object keys, which does not change what a pattern matches.

    Example:
        >>> from ddbstream.filters import Filter, to_terraform
        >>> print(to_terraform(Filter.from_pattern({"eventName": ["INSERT"]})), end="")
        filter_criteria {
          filter {
            pattern = jsonencode({
              "eventName" = ["INSERT"]
            })
          }
        }
    """
    pad = " " * indent
    lines = ["filter_criteria {"]
    for f in _criteria(criteria).filters:
        pattern = run(_hcl(f.to_pattern(), 2))
        lines += ["  filter {", f"    pattern = jsonencode({pattern})", "  }"]
    lines.append("}")
    return "".join(f"{pad}{line}\n" for line in "\n".join(lines).splitlines())
