"""Pattern JSON without recursion: read text, write compact text, and run recursive walks.

Python's ``json`` module recurses once per nesting level, against the interpreter's recursion
limit, and so do naive walks of a nested dict. A pattern of 4096 characters can nest about 800
levels, so patterns are read (:func:`loads`) and written (:func:`dumps`) here with explicit
stacks, and the filter modules write their walks as generators that :func:`run` drives without
growing the Python stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Mapping
from json.encoder import encode_basestring
from typing import Any, TypeVar

from .._errors import InvalidPattern

__all__ = ["Walk", "dumps", "loads", "run"]

T = TypeVar("T")
#: A recursive walk written as a generator: ``yield child_walk`` stands for a recursive call
#: and evaluates to the child's return value.
Walk = Generator["Walk[Any]", Any, T]

scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_CONSTANTS = ("NaN", "Infinity", "-Infinity")
# json.loads in C handles this many nested containers comfortably below the recursion limit
_SHALLOW = 100


def run(walk: Walk[T]) -> T:
    """Drive a generator-written recursive walk with an explicit stack (no Python recursion)."""
    stack: list[Walk[Any]] = [walk]
    value: Any = None
    while stack:
        try:
            child = stack[-1].send(value)
        except StopIteration as stop:
            stack.pop()
            value = stop.value
        else:
            stack.append(child)
            value = None
    return value  # type: ignore[no-any-return]


class _NotJson(Exception):
    def __init__(self, message: str, pos: int | None = None) -> None:
        super().__init__(message if pos is None else f"{message} (char {pos})")


def loads(
    text: str,
    pairs: Callable[[list[tuple[str, Any]]], Any] = dict,
    *,
    what: str = "Pattern",
    max_depth: int | None = None,
    too_deep: str = "",
) -> Any:
    """Parse JSON text; ``pairs`` builds each object from its key/value pairs, in order.

    NaN and Infinity are refused (they are not JSON), and so is a number too long for Python.

    Raises:
        InvalidPattern: the text is not JSON (``what`` names it in the message), or nests
            deeper than ``max_depth`` (with the reason ``too_deep``).
    """
    try:
        if text.count("{") + text.count("[") <= _SHALLOW:
            try:
                return json.loads(text, object_pairs_hook=pairs, parse_constant=_constant)
            except json.JSONDecodeError as exc:
                raise _NotJson(exc.msg, exc.pos) from None
            except InvalidPattern:
                raise
            except ValueError as exc:  # an integer beyond Python's digit limit
                raise _NotJson(str(exc)) from None
        deep = too_deep or f"{what} nests deeper than {max_depth} levels"
        return _parse(text, pairs, max_depth or len(text), deep)
    except _NotJson as exc:
        raise InvalidPattern(f"{what} is not valid JSON: {exc}") from None


def _constant(name: str) -> Any:
    raise InvalidPattern(f"{name} is not a JSON number")


def _parse(
    text: str, pairs: Callable[[list[tuple[str, Any]]], Any], max_depth: int, too_deep: str
) -> Any:
    """The same as ``json.loads`` with the same hooks, driven by a stack of open containers."""
    # each open container: [pairs or items, pending key (objects) or None]
    stack: list[list[Any]] = []
    pos = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    while True:
        value, pos, opened = _value(text, pos, stack, pairs)
        if len(stack) > max_depth:
            raise InvalidPattern(too_deep)
        if not opened:
            while True:  # close every container this value completes
                pos = _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]
                if not stack:
                    if pos != len(text):
                        raise _NotJson("Extra data", pos)
                    return value
                top = stack[-1]
                if top[1] is None:
                    top[0].append(value)
                else:
                    top[0].append((top[1], value))
                char = text[pos : pos + 1]
                if char == ",":
                    pos = _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
                    if top[1] is not None:
                        top[1], pos = _key(text, pos)
                    break
                closing = "]" if top[1] is None else "}"
                if char != closing:
                    raise _NotJson("Expecting ',' delimiter", pos)
                stack.pop()
                value = top[0] if top[1] is None else pairs(top[0])
                pos += 1


def _value(
    text: str, pos: int, stack: list[list[Any]], pairs: Callable[[list[tuple[str, Any]]], Any]
) -> tuple[Any, int, bool]:
    """The value at ``pos`` (and the position after it), or open a container (opened=True)."""
    char = text[pos : pos + 1]
    if char in ("{", "["):
        pos = _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] == ("}" if char == "{" else "]"):
            return ([] if char == "[" else pairs([])), pos + 1, False
        if char == "[":
            stack.append([[], None])
        else:
            key, pos = _key(text, pos)
            stack.append([[], key])
        return None, pos, True
    if char == '"':
        try:
            string, end = scanstring(text, pos + 1, True)
        except json.JSONDecodeError as exc:
            raise _NotJson(exc.msg, exc.pos) from None
        return string, end, False
    for word, literal in _LITERALS.items():
        if text.startswith(word, pos):
            return literal, pos + len(word), False
    for word in _CONSTANTS:
        if text.startswith(word, pos):
            _constant(word)
    number = _NUMBER.match(text, pos)
    if number is None:
        raise _NotJson("Expecting value", pos)
    integer, fraction, exponent = number.groups()
    try:
        result = (
            float(integer + (fraction or "") + (exponent or ""))
            if fraction or exponent
            else int(integer)
        )
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise _NotJson(str(exc)) from None
    return result, number.end(), False


def _key(text: str, pos: int) -> tuple[str, int]:
    if text[pos : pos + 1] != '"':
        raise _NotJson("Expecting property name enclosed in double quotes", pos)
    try:
        key, end = scanstring(text, pos + 1, True)
    except json.JSONDecodeError as exc:
        raise _NotJson(exc.msg, exc.pos) from None
    end = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
    if text[end : end + 1] != ":":
        raise _NotJson("Expecting ':' delimiter", end)
    return key, _WHITESPACE.match(text, end + 1).end()  # type: ignore[union-attr]


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON (``separators=(",", ":")``, non-ASCII kept) of a JSON-clean value.

    The same text as ``json.dumps(value, separators=(",", ":"), ensure_ascii=False,
    sort_keys=sort_keys)``, written with an explicit stack.
    """
    out: list[str] = []
    # pending work, popped from the end: a value to write, or a literal piece of text
    todo: list[tuple[bool, Any]] = [(True, value)]
    while todo:
        is_value, item = todo.pop()
        if not is_value:
            out.append(item)
        elif isinstance(item, Mapping):
            entries = sorted(item.items()) if sort_keys else list(item.items())
            todo.append((False, "}"))
            for i in range(len(entries) - 1, -1, -1):
                key, child = entries[i]
                todo.append((True, child))
                todo.append((False, ("," if i else "") + encode_basestring(key) + ":"))
            todo.append((False, "{"))
        elif isinstance(item, (list, tuple)):
            todo.append((False, "]"))
            for i in range(len(item) - 1, -1, -1):
                todo.append((True, item[i]))
                if i:
                    todo.append((False, ","))
            todo.append((False, "["))
        else:
            out.append(_scalar(item))
    return "".join(out)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return float.__repr__(value)
    return int.__repr__(value)
