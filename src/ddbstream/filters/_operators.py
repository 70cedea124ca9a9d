"""The match operators of a pattern's value lists: how each is validated, tested and supported.

One row of :data:`OPERATORS` per operator (``prefix``, ``numeric``, ``anything-but``...) holds
all there is to know about it at the pattern level: the parser that validates its operand with
event-ruler's messages and normalizes it into a :class:`Match`, and where AWS documents it
(the linter warns about the rest). :data:`TESTS` turns each kind of match into a test on one
leaf value. Adding an operator to patterns is adding a row here.
"""

from __future__ import annotations

import ipaddress
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from .._errors import InvalidPattern, PathItem
from ._json import dumps
from ._text import ignore_case, wildcard

__all__ = [
    "OPERATORS",
    "TESTS",
    "Match",
    "Operator",
    "Support",
    "is_number",
    "parse_entry",
    "parse_ip",
    "support",
    "value_test",
]

Path = tuple[PathItem, ...]
Test = Callable[[Any], bool]
#: Where AWS documents an operator: Lambda's operator table, EventBridge Pipes only, or
#: EventBridge buses only.
Support = Literal["lambda", "pipes", "eventbridge"]


@dataclass(frozen=True, slots=True)
class Match:
    """One entry of a value list, validated: a ``kind`` and its normalized ``operand``.

    Kinds: ``exact`` (str), ``number`` (int/float), ``literal`` (True/False/None), ``prefix``,
    ``suffix``, ``prefix-ic``, ``suffix-ic``, ``eic``, ``wildcard``, ``cidr`` ((version, low,
    high)), ``numeric`` (((op, value), ...)), ``exists`` / ``absent``, and ``ab-<kind>`` for
    anything-but (a tuple of values). ``source`` is the entry as written, for messages.
    """

    kind: str
    operand: Any
    source: Any

    def describe(self) -> str:
        """The entry as compact JSON, e.g. ``{"prefix":"a"}`` or ``"x"``."""
        return dumps(self.source)


def is_number(value: Any) -> bool:
    """A JSON number (``bool`` is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fail(reason: str, path: Path) -> InvalidPattern:
    return InvalidPattern(reason, path=path)


def _number(value: Any, reason: str, path: Path) -> int | float:
    if not is_number(value):
        raise _fail(reason, path)
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(f"Number {value!r} is not finite", path)
    return value  # type: ignore[no-any-return]


def _string(operand: Any, reason: str, path: Path) -> str:
    if not isinstance(operand, str):
        raise _fail(reason, path)
    return operand


# --------------------------------------------------------------------------- parsers

Parsed = tuple[str, Any]


def _exactly(operand: Any, path: Path) -> Parsed:
    return "exact", _string(operand, "exact match pattern must be a string", path)


def _affix(name: str) -> Callable[[Any, Path], Parsed]:
    def parse(operand: Any, path: Path) -> Parsed:
        if isinstance(operand, Mapping):
            if len(operand) != 1:
                raise _fail("Only one key allowed in match expression", path)
            ((inner, value),) = operand.items()
            if inner != "equals-ignore-case":
                raise _fail(f"Unsupported {name} pattern: {inner}", (*path, inner))
            reason = "equals-ignore-case match pattern must be a string"
            return f"{name}-ic", _string(value, reason, (*path, inner))
        return name, _string(operand, f"{name} match pattern must be a string", path)

    return parse


def _equals_ignore_case(operand: Any, path: Path) -> Parsed:
    return "eic", _string(operand, "equals-ignore-case match pattern must be a string", path)


def _exists(operand: Any, path: Path) -> Parsed:
    if not isinstance(operand, bool):
        raise _fail("exists match pattern must be either true or false.", path)
    return ("exists" if operand else "absent"), operand


def _wildcard(operand: Any, path: Path) -> Parsed:
    text = _string(operand, "wildcard match pattern must be a string", path)
    return "wildcard", wildcard(text, path)


_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


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


def _cidr(operand: Any, path: Path) -> Parsed:
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
    return "cidr", (address.version, low, low | ((1 << (width - bits)) - 1))


_NUMERIC_OPS = ("=", "<", "<=", ">", ">=")


def _numeric(operand: Any, path: Path) -> Parsed:
    if not isinstance(operand, (list, tuple)):
        raise _fail("Value of numeric must be an array.", path)
    terms = list(operand)
    if not terms or not isinstance(terms[0], str):
        shown = dumps(terms[0]) if terms else "]"
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
        raise _fail(f"Bad value in numeric range: {dumps(terms[2])}", path)
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


_AB_KINDS = {
    "prefix": "ab-prefix",
    "suffix": "ab-suffix",
    "equals-ignore-case": "ab-eic",
    "wildcard": "ab-wildcard",
}
_AB_VALUE = "Value of anything-but must be an array or single string/number value."


def _anything_but(operand: Any, path: Path) -> Parsed:
    if isinstance(operand, Mapping):
        return _anything_but_object(operand, path)
    if isinstance(operand, str):
        return "ab-exact", (operand,)
    if is_number(operand):
        return "ab-number", (_number(operand, "", path),)
    if not isinstance(operand, (list, tuple)):
        raise _fail(_AB_VALUE, path)
    for i, value in enumerate(operand):
        if not (isinstance(value, str) or is_number(value)):
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


def _anything_but_object(operand: Mapping[str, Any], path: Path) -> Parsed:
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
    elif is_number(value) and kind == "ab-eic":
        raise _fail(bad, here)
    else:
        raise _fail(_AB_VALUE if value is None or isinstance(value, (bool, Mapping)) else bad, here)
    if kind in ("ab-prefix", "ab-suffix") and any(v == "" for v in values):
        raise _fail("Null prefix/suffix not allowed", here)
    if kind == "ab-wildcard":
        return kind, tuple(wildcard(v, here) for v in values)
    return kind, tuple(values)


@dataclass(frozen=True, slots=True)
class Operator:
    """One match operator: its operand parser, and where AWS documents it (``support``) as
    written with a plain operand and with an object operand (``support_nested``)."""

    parse: Callable[[Any, Path], Parsed]
    support: Support = "lambda"
    support_nested: Support = "lambda"


OPERATORS: dict[str, Operator] = {
    "exactly": Operator(_exactly, "eventbridge"),
    "prefix": Operator(_affix("prefix"), support_nested="pipes"),
    "suffix": Operator(_affix("suffix"), support_nested="pipes"),
    "equals-ignore-case": Operator(_equals_ignore_case),
    "exists": Operator(_exists),
    "wildcard": Operator(_wildcard, "eventbridge"),
    "cidr": Operator(_cidr, "eventbridge"),
    "numeric": Operator(_numeric),
    "anything-but": Operator(_anything_but, support_nested="eventbridge"),
}


def parse_entry(entry: Any, path: Path) -> Match:
    """Validate one value-list entry (already JSON-clean) and return its :class:`Match`."""
    if isinstance(entry, str):
        return Match("exact", entry, entry)
    if entry is None or isinstance(entry, bool):
        return Match("literal", entry, entry)
    if is_number(entry):
        return Match("number", entry, entry)
    if not entry:
        raise _fail("Match expression name not found", path)
    if len(entry) > 1:
        raise _fail("Only one key allowed in match expression", path)
    ((name, operand),) = entry.items()
    row = OPERATORS.get(name)
    if row is None:
        raise _fail(f"Unrecognized match type {name}", (*path, name))
    kind, value = row.parse(operand, (*path, name))
    return Match(kind, value, entry)


def support(entry: Any) -> Support:
    """Where AWS documents a value-list entry (plain values are Lambda's own)."""
    if not isinstance(entry, Mapping) or len(entry) != 1:
        return "lambda"
    ((name, operand),) = entry.items()
    row = OPERATORS.get(name)
    if row is None:
        return "lambda"
    return row.support_nested if isinstance(operand, Mapping) else row.support


# --------------------------------------------------------------------------- tests


def _is_num(value: Any) -> bool:
    cls = value.__class__
    return cls is int or cls is float or (cls is not bool and isinstance(value, _NUMBER_TYPES))


_NUMBER_TYPES = (int, float, Decimal)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _numeric_test(terms: tuple[tuple[str, Any], ...]) -> Test:
    checks = tuple((_COMPARE[op], bound) for op, bound in terms)
    return lambda v: _is_num(v) and all(compare(v, bound) for compare, bound in checks)


def _cidr_test(operand: tuple[int, int, int]) -> Test:
    version, low, high = operand

    def test(v: Any) -> bool:
        if v.__class__ is not str:
            return False
        address = parse_ip(v)
        return address is not None and address.version == version and low <= int(address) <= high

    return test


def _not(test: Test) -> Test:
    return lambda v: not test(v)


def _but_strings(values: tuple[str, ...]) -> Test:
    excluded = frozenset(values)
    return lambda v: not (v.__class__ is str and v in excluded)


def _but_numbers(values: tuple[int | float, ...]) -> Test:
    excluded = frozenset(values)
    return lambda v: not (_is_num(v) and v in excluded)


#: kind of :class:`Match` -> its test on a present leaf value (``absent`` is structural: the
#: walkers handle it).
TESTS: dict[str, Callable[[Any], Test]] = {
    "exact": lambda s: lambda v: v.__class__ is str and v == s,
    "number": lambda n: lambda v: _is_num(v) and v == n,
    "literal": lambda x: lambda v: v is x,
    "prefix": lambda s: lambda v: v.__class__ is str and v.startswith(s),
    "suffix": lambda s: lambda v: v.__class__ is str and v.endswith(s),
    "eic": lambda s: ignore_case((s,), "full"),
    "prefix-ic": lambda s: ignore_case((s,), "prefix"),
    "suffix-ic": lambda s: ignore_case((s,), "suffix"),
    "wildcard": lambda w: lambda v: v.__class__ is str and w.fullmatch(v),
    "cidr": _cidr_test,
    "numeric": _numeric_test,
    "exists": lambda _: lambda v: True,
    "absent": lambda _: lambda v: False,
    "ab-exact": _but_strings,
    "ab-number": _but_numbers,
    "ab-prefix": lambda s: lambda v: not (v.__class__ is str and v.startswith(s)),
    "ab-suffix": lambda s: lambda v: not (v.__class__ is str and v.endswith(s)),
    "ab-eic": lambda s: _not(ignore_case(s, "full")),
    "ab-wildcard": lambda ws: (
        lambda v: not (v.__class__ is str and any(w.fullmatch(v) for w in ws))
    ),
}


def value_test(matches: Sequence[Match]) -> Test:
    """The OR of a leaf's matches on a present value (exact strings and numbers as sets)."""
    if any(m.kind == "exists" for m in matches):
        return lambda v: True
    strings = frozenset(m.operand for m in matches if m.kind == "exact")
    numbers = frozenset(m.operand for m in matches if m.kind == "number")
    literals = tuple(m.operand for m in matches if m.kind == "literal")
    skip = ("exact", "number", "literal", "absent")
    tests = [TESTS[m.kind](m.operand) for m in matches if m.kind not in skip]
    if strings:
        tests.insert(0, lambda v: v.__class__ is str and v in strings)
    if numbers:
        tests.append(lambda v: _is_num(v) and v in numbers)
    if literals:
        tests.append(lambda v: any(v is literal for literal in literals))
    if not tests:
        return lambda v: False
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(test(v) for test in tests)
