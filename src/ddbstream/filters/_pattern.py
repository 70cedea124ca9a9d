"""Lambda filter patterns: parsing, validation within AWS's limits, and event-ruler's reading.

A pattern is validated once, with event-ruler's rules and messages and AWS's limits
(:data:`MAX_PATTERN_LENGTH` characters, :data:`MAX_COMBINATIONS` ``$or`` combinations), into
a :class:`Rule`: the pattern flattened the way event-ruler reads it, conditions on dotted field
names and ``$or`` groups. :func:`expand` turns a rule into event-ruler's *sub-rules* (one per
combination of ``$or`` branches). Nothing here recurses: a 4096-character pattern can nest about
800 levels, and every walk runs on an explicit stack (:func:`ddbstream.filters._json.run`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .._errors import InvalidPattern, PathItem
from ._json import Walk, dumps, loads, run
from ._operators import Match, is_number, parse_entry

__all__ = [
    "MAX_COMBINATIONS",
    "MAX_DEPTH",
    "MAX_PATTERN_LENGTH",
    "OR",
    "RESERVED_IN_OR",
    "FieldMatch",
    "Group",
    "Rule",
    "SubRule",
    "Validated",
    "combinations",
    "exceeded_limit",
    "expand",
    "fold",
    "loads_pattern",
    "overrides",
    "sub_rules",
    "validate",
]

#: Lambda's limit on a filter's ``Pattern`` (API type ``String``, length 0..4096).
MAX_PATTERN_LENGTH = 4096
#: EventBridge's documented limit: "over 1000 rule combinations" from ``$or`` is rejected.
MAX_COMBINATIONS = 1000
#: No pattern within :data:`MAX_PATTERN_LENGTH` nests deeper: each object level costs at least
#: five characters (``{"":`` and ``}``), and a value list adds at most four levels.
MAX_DEPTH = MAX_PATTERN_LENGTH // 5 + 4
OR = "$or"
RESERVED_IN_OR = frozenset(
    {
        "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists",
        "wildcard", "numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
        "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
        "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
    }
)  # fmt: skip
_HUGE = 10**MAX_PATTERN_LENGTH  # an integer this large cannot be written in a pattern

Path = tuple[PathItem, ...]


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """A leaf of a pattern: the dotted field ``name`` and its value list (ORed)."""

    name: str
    matches: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """An ``$or`` at the object ``prefix`` (dotted, ``""`` at the top): one branch must hold."""

    prefix: str
    branches: tuple[Rule, ...]
    path: Path  # where it is written, for messages


@dataclass(frozen=True, slots=True)
class Rule:
    """A pattern object, flattened: field matches and ``$or`` groups in pattern order, with
    absolute dotted names; all must hold."""

    items: tuple[FieldMatch | Group, ...]


#: A sub-rule: sorted ``(dotted field name, matches)`` pairs, all of which must hold.
SubRule = tuple[tuple[str, tuple[Match, ...]], ...]


@dataclass(frozen=True, slots=True)
class Validated:
    """A valid pattern: JSON-clean ``value``, its compact ``text`` and its :class:`Rule`."""

    value: dict[str, Any]
    text: str
    rule: Rule


def _fail(reason: str, path: Path) -> InvalidPattern:
    return InvalidPattern(reason, path=path)


# --------------------------------------------------------------------------- parsing text


def _merge(target: dict[str, Any], key: str, value: Any) -> None:
    """Merge a repeated key the way event-ruler's streaming compiler keeps it."""
    todo: list[tuple[dict[str, Any], str, Any, Path]] = [(target, key, value, ())]
    while todo:
        target, key, value, path = todo.pop()
        old = target[key]
        if isinstance(old, dict) and isinstance(value, dict) and key != OR:
            for sub_key, sub_value in value.items():
                if sub_key in old:
                    todo.append((old, sub_key, sub_value, (*path, key)))
                else:
                    old[sub_key] = sub_value
            continue
        if isinstance(old, dict) or isinstance(value, dict) or key == OR:
            raise InvalidPattern(
                f"Duplicate key {key!r} mixes an object with another value (or repeats $or); "
                "event-ruler would keep both under different paths, ddbstream cannot represent "
                "that in one pattern: write the key once",
                path=(*path, key),
            )
        del target[key]  # identical leaf path: the last one wins, and it was written last
        target[key] = value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            _merge(out, key, value)
        else:
            out[key] = value
    return out


def loads_pattern(text: str) -> Any:
    """Parse pattern text; repeated object keys deep-merge (identical leaf path: last wins)."""
    return loads(text, _pairs, max_depth=MAX_DEPTH, too_deep=_TOO_DEEP)


# --------------------------------------------------------------------------- validation


def validate(pattern: Any) -> Validated:
    """Validate ``pattern`` (text or mapping) as AWS would, without changing it.

    Raises:
        InvalidPattern: for anything event-ruler rejects (with its reason and the location),
            a pattern longer than 4096 characters as compact JSON, or one whose ``$or``
            arrays make more than 1000 combinations.
    """
    if isinstance(pattern, (str, bytes, bytearray)):
        text = pattern.decode() if isinstance(pattern, (bytes, bytearray)) else pattern
        pattern = loads_pattern(text)
    if not isinstance(pattern, Mapping):
        raise _fail("Filter is not an object", ())
    value, items = run(_object(pattern, (), "", False))
    text = dumps(value)
    if len(text) > MAX_PATTERN_LENGTH:
        raise _fail(f"Pattern is {len(text)} {_TOO_LONG}", ())
    combinations(value, limit=MAX_COMBINATIONS)
    return Validated(value, text, Rule(tuple(items)))


_TOO_DEEP = (
    f"Pattern nests deeper than {MAX_DEPTH} levels, which no valid pattern of at most "
    f"{MAX_PATTERN_LENGTH} characters (Lambda's limit) can"
)
_TOO_COMPLEX = "Rule is too complex: $or expands to more than"
_TOO_LONG = f"characters as compact JSON; Lambda allows at most {MAX_PATTERN_LENGTH}"
_TOO_MANY_DIGITS = f"digits makes the pattern longer than Lambda's {MAX_PATTERN_LENGTH}"


def exceeded_limit(error: InvalidPattern) -> str | None:
    """Which AWS limit a refused pattern exceeds: ``"length"`` (4096 characters, or a nesting
    no pattern that short can have), ``"combinations"`` (1000 $or combinations), or None."""
    if any(marker in error.reason for marker in (_TOO_LONG, _TOO_DEEP, _TOO_MANY_DIGITS)):
        return "length"
    if error.reason.startswith(_TOO_COMPLEX):
        return "combinations"
    return None


def _too_deep(path: Path) -> InvalidPattern:
    return _fail(_TOO_DEEP, path[:8])


Cleaned = tuple[dict[str, Any], list[FieldMatch | Group]]


def _object(obj: Mapping[Any, Any], path: Path, prefix: str, in_or: bool) -> Walk[Cleaned]:
    if len(path) > MAX_DEPTH:
        raise _too_deep(path)
    if not obj:
        raise _fail("Empty objects are not allowed", path)
    out: dict[str, Any] = {}
    items: list[FieldMatch | Group] = []
    for key, value in obj.items():
        if not isinstance(key, str):
            raise _fail(f"Field name {key!r} is not a string", path)
        here = (*path, key)
        if key == OR:
            out[key], group = yield _or(value, here, prefix)
            items.append(group)
            continue
        if in_or and key in RESERVED_IN_OR:
            raise _fail(f"{key} is Ruler reserved fieldName which cannot be used inside $or.", here)
        if isinstance(value, Mapping):
            out[key], inner = yield _object(value, here, f"{prefix}{key}.", in_or)
            items.extend(inner)
        elif isinstance(value, (list, tuple)):
            if not value:
                raise _fail("Empty arrays are not allowed", here)
            entries = []
            for i, entry in enumerate(value):
                entries.append((yield _entry(entry, (*here, i))))
            out[key] = [clean for clean, _ in entries]
            items.append(FieldMatch(f"{prefix}{key}", tuple(match for _, match in entries)))
        else:
            raise _fail(f'"{key}" must be an object or an array', here)
    return out, items


def _or(value: Any, path: Path, prefix: str) -> Walk[tuple[list[dict[str, Any]], Group]]:
    # event-ruler's legacy compiler would read a malformed $or as a field literally named
    # "$or" (which no DynamoDB record has); ddbstream rejects it (docs/filters.md).
    if not isinstance(value, (list, tuple)):
        raise _fail("It must be an Array followed with $or.", path)
    clean: list[dict[str, Any]] = []
    branches: list[Rule] = []
    for i, branch in enumerate(value):
        if not isinstance(branch, Mapping):
            raise _fail("Only JSON object is allowed in array of $or relationship.", (*path, i))
        out, items = yield _object(branch, (*path, i), prefix, True)
        clean.append(out)
        branches.append(Rule(tuple(items)))
    if len(branches) < 2:
        raise _fail("There must have at least 2 Objects in $or relationship.", path)
    return clean, Group(prefix, tuple(branches), path)


def _number(value: Any, path: Path) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(f"Number {value!r} is not finite", path)
    if isinstance(value, int) and abs(value) >= _HUGE:
        raise _fail(
            f"A number of more than {MAX_PATTERN_LENGTH} {_TOO_MANY_DIGITS} characters", path
        )
    return value


def _entry(entry: Any, path: Path) -> Walk[tuple[Any, Match]]:
    if entry is None or isinstance(entry, (bool, str)):
        return entry, parse_entry(entry, path)
    if is_number(entry):
        clean = _number(entry, path)
        return clean, parse_entry(clean, path)
    if isinstance(entry, Mapping):
        source = {}
        for key, value in entry.items():
            source[str(key)] = yield _jsonable(value, (*path, str(key)))
        return source, parse_entry(source, path)
    raise _fail("Match value must be String, number, true, false, or null", path)


def _jsonable(value: Any, path: Path) -> Walk[Any]:
    if len(path) > MAX_DEPTH:
        raise _too_deep(path)
    if value is None or isinstance(value, (bool, str)):
        return value
    if is_number(value):
        return _number(value, path)
    if isinstance(value, (list, tuple)):
        items = []
        for i, item in enumerate(value):
            items.append((yield _jsonable(item, (*path, i))))
        return items
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            out[str(key)] = yield _jsonable(item, (*path, str(key)))
        return out
    raise _fail(f"{type(value).__name__} is not a JSON value", path)


def combinations(pattern: Mapping[str, Any], *, limit: int | None = None) -> int:
    """How many sub-rules a JSON-clean pattern expands to: the product, over its ``$or``
    arrays, of the combinations of their branches (summed).

    Raises:
        InvalidPattern: the count exceeds ``limit`` (at the ``$or`` where it does).
    """

    def count(obj: Mapping[str, Any], path: Path) -> Walk[int]:
        total = 1
        for key, value in obj.items():
            if key == OR and isinstance(value, (list, tuple)):
                alternatives = 0
                for i, branch in enumerate(value):
                    alternatives += yield count(branch, (*path, key, i))
                total *= alternatives
            elif isinstance(value, Mapping):
                total *= yield count(value, (*path, key))
            if limit is not None and total > limit:
                raise _fail(
                    f"{_TOO_COMPLEX} {limit} combinations (EventBridge's limit)", (*path, key)
                )
        return total

    return run(count(pattern, ()))


# --------------------------------------------------------------------------- expansion

S = TypeVar("S")


def fold(
    rule: Rule,
    empty: Callable[[], S],
    write: Callable[[list[S], FieldMatch], list[S]],
    copy: Callable[[S], S],
) -> list[S]:
    """event-ruler's expansion of ``rule`` into sub-rules, each one built as an ``S``.

    Fields are written in pattern order, into every current sub-rule (``write``); an ``$or``
    forks the current sub-rules (``copy``) once per branch, branch after branch. A later write
    of a dotted name replaces an earlier one when ``S`` is a mapping (``withOverriding``).
    """

    def walk(rule: Rule, states: list[S]) -> Walk[list[S]]:
        for item in rule.items:
            if isinstance(item, FieldMatch):
                states = write(states or [empty()], item)
                continue
            forked: list[S] = []
            for branch in item.branches:
                forked += yield walk(branch, [copy(state) for state in states] or [empty()])
            states = forked
        return states

    return run(walk(rule, []))


def _write(states: list[dict[str, FieldMatch]], item: FieldMatch) -> list[dict[str, FieldMatch]]:
    for state in states:
        state[item.name] = item
    return states


def sub_rules(rule: Rule) -> list[dict[str, FieldMatch]]:
    """The sub-rules of ``rule``: for each, its fields by dotted name (the last write wins)."""
    return fold(rule, dict, _write, dict)


def expand(rule: Rule) -> tuple[SubRule, ...]:
    """The sub-rules of ``rule`` as sorted ``(dotted name, matches)`` pairs."""
    return tuple(
        tuple(sorted((name, item.matches) for name, item in sub.items())) for sub in sub_rules(rule)
    )


def overrides(rule: Rule) -> bool:
    """Whether some sub-rule writes one dotted name twice (a later write then replaces the
    earlier one, so the sub-rules are not the plain AND/OR of the pattern's conditions).

    Two places of a name meet in a sub-rule unless they lie in two branches of one ``$or``:
    that is, when two items of one object (an AND) can both write it.
    """

    def names(rule: Rule) -> Walk[set[str] | None]:
        seen: set[str] = set()
        for item in rule.items:
            if isinstance(item, FieldMatch):
                written = {item.name}
            else:
                written = set()
                for branch in item.branches:
                    inner = yield names(branch)
                    if inner is None:
                        return None
                    written |= inner
            if not seen.isdisjoint(written):
                return None
            seen |= written
        return seen

    return run(names(rule)) is None
