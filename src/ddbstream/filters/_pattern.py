"""Lambda FilterCriteria patterns: parsing, validation and expansion into event-ruler sub-rules.

A pattern is validated once, with event-ruler's rules and messages, and expanded the way
event-ruler's ``JsonRuleCompiler`` does it: into a list of *sub-rules* (one per combination of
``$or`` branches), each a mapping from a dotted field name to the OR-list of conditions that
field must satisfy. :mod:`ddbstream.filters._evaluate` turns the sub-rules into matchers.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidPattern

__all__ = [
    "MAX_PATTERN_LENGTH",
    "MAX_SUB_RULES",
    "Cond",
    "SubRule",
    "compact_json",
    "expand",
    "loads_pattern",
    "normalize",
]

MAX_PATTERN_LENGTH = 4096
MAX_SUB_RULES = 1000
OR = "$or"
_NUMERIC_OPS = ("=", "<", "<=", ">", ">=")
RESERVED_IN_OR = frozenset(
    {
        "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists",
        "wildcard", "numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
        "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
        "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
    }
)  # fmt: skip
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Cond:
    """One entry of a leaf's value list, validated: ``kind`` plus a normalized ``operand``.

    Kinds: ``exact`` (str), ``number`` (int/float), ``literal`` (True/False/None), ``prefix``,
    ``suffix``, ``prefix-ic``, ``suffix-ic``, ``eic``, ``wildcard``, ``cidr`` ((version, lo, hi)),
    ``numeric`` (((op, value), ...)), ``exists`` / ``absent``, and ``ab-<kind>`` for anything-but
    (operand a tuple of values). ``source`` is the entry as written, for messages.
    """

    kind: str
    operand: Any
    source: Any

    def describe(self) -> str:
        """The entry as compact JSON, e.g. ``{"prefix":"a"}`` or ``"x"``."""
        return compact_json(self.source)


#: A sub-rule: sorted ``(dotted field name, conditions)`` pairs, all of which must hold.
SubRule = tuple[tuple[str, tuple[Cond, ...]], ...]


def compact_json(value: Any) -> str:
    """Serialize like the Lambda API expects: no whitespace, non-ASCII kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# --------------------------------------------------------------------------- parsing text


def _merge_into(target: dict[str, Any], key: str, value: Any, path: Path) -> None:
    """Merge a repeated key the way event-ruler's streaming compiler keeps it."""
    old = target[key]
    if isinstance(old, dict) and isinstance(value, dict) and key != OR:
        for sub_key, sub_value in value.items():
            if sub_key in old:
                _merge_into(old, sub_key, sub_value, (*path, key))
            else:
                old[sub_key] = sub_value
        return
    if isinstance(old, dict) or isinstance(value, dict) or key == OR:
        raise InvalidPattern(
            f"Duplicate key {key!r} mixes an object with another value (or repeats $or); "
            "event-ruler would keep both under different paths, ddbstream cannot represent "
            "that in one pattern: write the key once",
            path=(*path, key),
        )
    del target[key]  # identical leaf path: the last one wins, and it was written last
    target[key] = value


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            _merge_into(out, key, value, ())
        else:
            out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise InvalidPattern(f"{name} is not a JSON number")


def loads_pattern(text: str) -> Any:
    """Parse pattern text; repeated object keys deep-merge (identical leaf path: last wins)."""
    try:
        return json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidPattern(f"Pattern is not valid JSON: {exc.msg} (char {exc.pos})") from exc
    except RecursionError as exc:
        raise InvalidPattern("Pattern is nested too deeply") from exc


# --------------------------------------------------------------------------- validation


def _fail(reason: str, path: Path) -> InvalidPattern:
    return InvalidPattern(reason, path=path)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, reason: str, path: Path) -> int | float:
    if not _is_number(value):
        raise _fail(reason, path)
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(f"Number {value!r} is not finite", path)
    return value  # type: ignore[no-any-return]


def normalize(pattern: Any) -> dict[str, Any]:
    """Return a validated, JSON-clean deep copy of ``pattern`` (text or mapping).

    Raises:
        InvalidPattern: for anything event-ruler rejects, with its reason and the location.
    """
    if isinstance(pattern, (str, bytes, bytearray)):
        text = pattern.decode() if isinstance(pattern, (bytes, bytearray)) else pattern
        pattern = loads_pattern(text)
    if not isinstance(pattern, Mapping):
        raise _fail("Filter is not an object", ())
    clean = _clean_object(pattern, (), in_or=False)
    size = len(compact_json(clean))
    if size > MAX_PATTERN_LENGTH:
        raise _fail(
            f"Pattern is {size} characters as compact JSON; Lambda allows at most "
            f"{MAX_PATTERN_LENGTH}",
            (),
        )
    return clean


def _clean_object(obj: Mapping[Any, Any], path: Path, *, in_or: bool) -> dict[str, Any]:
    if not obj:
        raise _fail("Empty objects are not allowed", path)
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise _fail(f"Field name {key!r} is not a string", path)
        here = (*path, key)
        if key == OR:
            out[key] = _clean_or(value, here)
            continue
        if in_or and key in RESERVED_IN_OR:
            raise _fail(f"{key} is Ruler reserved fieldName which cannot be used inside $or.", here)
        if isinstance(value, Mapping):
            out[key] = _clean_object(value, here, in_or=in_or)
        elif isinstance(value, (list, tuple)):
            if not value:
                raise _fail("Empty arrays are not allowed", here)
            out[key] = [_clean_entry(entry, (*here, i)) for i, entry in enumerate(value)]
        else:
            raise _fail(f'"{key}" must be an object or an array', here)
    return out


def _clean_or(value: Any, path: Path) -> list[dict[str, Any]]:
    # event-ruler's legacy compiler would read a malformed $or as a field literally named
    # "$or" (which no DynamoDB record has); ddbstream rejects it (docs/filters.md).
    if not isinstance(value, (list, tuple)):
        raise _fail("It must be an Array followed with $or.", path)
    branches = []
    for i, branch in enumerate(value):
        if not isinstance(branch, Mapping):
            raise _fail("Only JSON object is allowed in array of $or relationship.", (*path, i))
        branches.append(_clean_object(branch, (*path, i), in_or=True))
    if len(branches) < 2:
        raise _fail("There must have at least 2 Objects in $or relationship.", path)
    return branches


def _clean_entry(entry: Any, path: Path) -> Any:
    if entry is None or isinstance(entry, (bool, str)):
        return entry
    if _is_number(entry):
        return _number(entry, "", path)
    if isinstance(entry, Mapping):
        cond_source = {k: _jsonable(v, (*path, str(k))) for k, v in entry.items()}
        to_cond(cond_source, path)  # validates
        return cond_source
    raise _fail("Match value must be String, number, true, false, or null", path)


def _jsonable(value: Any, path: Path) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if _is_number(value):
        return _number(value, "", path)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, (*path, i)) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, (*path, str(k))) for k, v in value.items()}
    raise _fail(f"{type(value).__name__} is not a JSON value", path)


# --------------------------------------------------------------------------- conditions


def to_cond(entry: Any, path: Path) -> Cond:
    """Validate one value-list entry (already JSON-clean) and return its :class:`Cond`."""
    if isinstance(entry, str):
        return Cond("exact", entry, entry)
    if entry is None or isinstance(entry, bool):
        return Cond("literal", entry, entry)
    if _is_number(entry):
        return Cond("number", entry, entry)
    if not entry:
        raise _fail("Match expression name not found", path)
    if len(entry) > 1:
        raise _fail("Only one key allowed in match expression", path)
    ((op, operand),) = entry.items()
    here = (*path, op)
    handler = _OPERATORS.get(op)
    if handler is None:
        raise _fail(f"Unrecognized match type {op}", here)
    kind, value = handler(operand, here)
    return Cond(kind, value, entry)


def _string(operand: Any, reason: str, path: Path) -> str:
    if not isinstance(operand, str):
        raise _fail(reason, path)
    return operand


def _op_exactly(operand: Any, path: Path) -> tuple[str, Any]:
    return "exact", _string(operand, "exact match pattern must be a string", path)


def _op_prefix(operand: Any, path: Path) -> tuple[str, Any]:
    return _affix("prefix", operand, path)


def _op_suffix(operand: Any, path: Path) -> tuple[str, Any]:
    return _affix("suffix", operand, path)


def _affix(name: str, operand: Any, path: Path) -> tuple[str, Any]:
    if isinstance(operand, Mapping):
        if len(operand) != 1:
            raise _fail("Only one key allowed in match expression", path)
        ((inner, value),) = operand.items()
        if inner != "equals-ignore-case":
            raise _fail(f"Unsupported {name} pattern: {inner}", (*path, inner))
        reason = "equals-ignore-case match pattern must be a string"
        return f"{name}-ic", _string(value, reason, (*path, inner))
    return name, _string(operand, f"{name} match pattern must be a string", path)


def _op_eic(operand: Any, path: Path) -> tuple[str, Any]:
    return "eic", _string(operand, "equals-ignore-case match pattern must be a string", path)


def _op_exists(operand: Any, path: Path) -> tuple[str, Any]:
    if not isinstance(operand, bool):
        raise _fail("exists match pattern must be either true or false.", path)
    return ("exists" if operand else "absent"), operand


def _op_wildcard(operand: Any, path: Path) -> tuple[str, Any]:
    text = _string(operand, "wildcard match pattern must be a string", path)
    return "wildcard", wildcard_regex(text, path)


def wildcard_regex(text: str, path: Path) -> re.Pattern[str]:
    """Compile an event-ruler wildcard (``*`` = zero or more; ``\\*``, ``\\\\`` escapes)."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            if text[i + 1 : i + 2] == "*":
                raise _fail(f"Consecutive wildcard characters at pos {_byte_pos(text, i)}", path)
            parts.append(".*")
        elif char == "\\":
            if text[i + 1 : i + 2] in ("*", "\\"):
                parts.append(re.escape(text[i + 1]))
                i += 1
            else:
                raise _fail(f"Invalid escape character at pos {_byte_pos(text, i)}", path)
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _byte_pos(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _op_cidr(operand: Any, path: Path) -> tuple[str, Any]:
    text = _string(operand, "prefix match pattern must be a string", path)  # sic, event-ruler
    pieces = text.split("/")
    if len(pieces) != 2 or not pieces[1]:
        raise _fail("Malformed CIDR, one '/' required", path)
    try:
        bits = int(pieces[1])
    except ValueError:
        raise _fail("Malformed CIDR, mask bits must be an integer", path) from None
    if bits < 0:
        raise _fail("Malformed CIDR, mask bits must not be negative", path)
    address = parse_ip(pieces[0])
    if address is None:
        raise _fail(f"Nonstandard IP address: {pieces[0]}", path)
    width = 32 if address.version == 4 else 128
    if bits > width - 1:  # event-ruler: "IPv4 mask bits must be < 32", IPv6 < 128
        raise _fail(f"IPv{address.version} mask bits must be < {width}", path)
    low = int(address)  # event-ruler keeps the given address as the bottom of the range
    high = low | ((1 << (width - bits)) - 1)
    return "cidr", (address.version, low, high)


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP literal as event-ruler recognizes it (IPv4-mapped IPv6 becomes IPv4), else None."""
    if not (_IPV4.fullmatch(text) or _IPV6.fullmatch(text)):
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _op_numeric(operand: Any, path: Path) -> tuple[str, Any]:
    if not isinstance(operand, (list, tuple)):
        raise _fail("Value of numeric must be an array.", path)
    terms = list(operand)
    if not terms or not isinstance(terms[0], str):
        shown = compact_json(terms[0]) if terms else "]"
        raise _fail(f"Invalid member in numeric match: {shown}", path)
    op = terms[0]
    if op not in _NUMERIC_OPS:
        raise _fail(f"Unrecognized numeric range operator: {op}", path)
    label = "equals" if op == "=" else op
    if len(terms) < 2:
        raise _fail(f"Value of {label} must be numeric", path)
    first = _number(terms[1], f"Value of {label} must be numeric", path)
    if len(terms) == 2:
        return "numeric", ((op, first),)
    if op in ("=", "<", "<="):
        raise _fail("Too many elements in numeric expression", path)
    if not isinstance(terms[2], str):
        raise _fail(f"Bad value in numeric range: {compact_json(terms[2])}", path)
    op2 = terms[2]
    if op2 not in ("<", "<="):
        raise _fail(f"Bad numeric range operator: {op2}", path)
    if len(terms) < 4:
        raise _fail(f"Value of {op2} must be numeric", path)
    second = _number(terms[3], f"Value of {op2} must be numeric", path)
    if len(terms) > 4:
        raise _fail("Too many terms in numeric range expression", path)
    if not first < second:
        raise _fail("Bottom must be less than top", path)
    return "numeric", ((op, first), (op2, second))


def _op_anything_but(operand: Any, path: Path) -> tuple[str, Any]:
    if isinstance(operand, Mapping):
        return _anything_but_object(operand, path)
    if isinstance(operand, str):
        return "ab-exact", (operand,)
    if _is_number(operand):
        return "ab-number", (_number(operand, "", path),)
    if not isinstance(operand, (list, tuple)):
        reason = "Value of anything-but must be an array or single string/number value."
        raise _fail(reason, path)
    for i, value in enumerate(operand):
        if not (isinstance(value, str) or _is_number(value)):
            reason = "Inside anything but list, start|null|boolean is not supported."
            raise _fail(reason, (*path, i))
    strings = [v for v in operand if isinstance(v, str)]
    if not operand or (strings and len(strings) != len(operand)):
        raise _fail(
            "Inside anything but list, either all values are number or string, "
            "mixed type is not supported",
            path,
        )
    if strings:
        return "ab-exact", tuple(strings)
    return "ab-number", tuple(_number(v, "", (*path, i)) for i, v in enumerate(operand))


_AB_KINDS = {
    "prefix": "ab-prefix",
    "suffix": "ab-suffix",
    "equals-ignore-case": "ab-eic",
    "wildcard": "ab-wildcard",
}


def _anything_but_object(operand: Mapping[str, Any], path: Path) -> tuple[str, Any]:
    if not operand:
        raise _fail("Anything-But expression name not found", path)
    if len(operand) > 1:
        raise _fail("Too many elements in numeric expression", path)  # sic, event-ruler
    ((inner, value),) = operand.items()
    here = (*path, inner)
    kind = _AB_KINDS.get(inner)
    if kind is None:
        raise _fail(f"Unsupported anything-but pattern: {inner}", here)
    if kind == "ab-eic":
        bad = (
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not "
            "supported."
        )
    elif kind == "ab-wildcard":
        bad = "wildcard match pattern must be a string"
    else:
        bad = "prefix/suffix match pattern must be a string"
    if isinstance(value, (list, tuple)):
        values = [_string(v, bad, (*here, i)) for i, v in enumerate(value)]
    elif isinstance(value, str):
        values = [value]
    elif _is_number(value) and kind == "ab-eic":
        raise _fail(bad, here)
    else:
        reason = "Value of anything-but must be an array or single string/number value."
        raise _fail(reason if value is None or isinstance(value, (bool, Mapping)) else bad, here)
    if kind in ("ab-prefix", "ab-suffix") and any(v == "" for v in values):
        raise _fail("Null prefix/suffix not allowed", here)
    if kind == "ab-wildcard":
        return kind, tuple(wildcard_regex(v, here) for v in values)
    return kind, tuple(values)


_OPERATORS = {
    "exactly": _op_exactly,
    "prefix": _op_prefix,
    "suffix": _op_suffix,
    "equals-ignore-case": _op_eic,
    "exists": _op_exists,
    "wildcard": _op_wildcard,
    "cidr": _op_cidr,
    "numeric": _op_numeric,
    "anything-but": _op_anything_but,
}


# --------------------------------------------------------------------------- expansion


def expand(pattern: Mapping[str, Any]) -> tuple[SubRule, ...]:
    """Expand a normalized pattern into event-ruler sub-rules (one per ``$or`` combination).

    Fields are written in pattern order and a later write of the same dotted name replaces an
    earlier one, in every current sub-rule (event-ruler's ``withOverriding``).
    """
    rules: list[dict[str, tuple[Cond, ...]]] = []
    _expand_object(pattern, "", rules, ())
    return tuple(tuple(sorted(rule.items())) for rule in rules)


def _expand_object(
    obj: Mapping[str, Any], prefix: str, rules: list[dict[str, tuple[Cond, ...]]], path: Path
) -> None:
    for key, value in obj.items():
        here = (*path, key)
        if key == OR:
            current = [dict(rule) for rule in rules]
            rules.clear()
            for i, branch in enumerate(value):
                forked = [dict(rule) for rule in current] or [{}]
                _expand_object(branch, prefix, forked, (*here, i))
                rules.extend(forked)
                if len(rules) > MAX_SUB_RULES:
                    raise _fail(
                        f"Rule is too complex: $or expands to more than {MAX_SUB_RULES} "
                        "combinations (EventBridge's limit)",
                        here,
                    )
        elif isinstance(value, Mapping):
            _expand_object(value, f"{prefix}{key}.", rules, here)
        else:
            conds = tuple(to_cond(entry, (*here, i)) for i, entry in enumerate(value))
            if not rules:
                rules.append({})
            for rule in rules:
                rule[f"{prefix}{key}"] = conds


def __getattr__(name: str) -> Any:
    # ``Filter`` lives in _criteria (it needs the evaluator); keep ``_pattern.Filter`` working
    if name == "Filter":
        from ._criteria import Filter

        return Filter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
