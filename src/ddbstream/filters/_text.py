"""String operators that must not backtrack: ``wildcard`` and ``equals-ignore-case``.

A regular expression such as ``.*a.*a.*a.*b`` backtracks: matching it against 80 letters took
seconds. event-ruler runs wildcards as a finite automaton; here a wildcard is a list of literal
segments found left to right, each once (``*`` only ever needs the leftmost next segment), and
case-insensitive matching tracks the set of positions the pattern can have reached. Both take
time linear in the value for a given pattern, whatever the value holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidPattern, PathItem

__all__ = ["Wildcard", "ignore_case", "wildcard"]

Test = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class Wildcard:
    """An event-ruler wildcard: literal ``segments`` with ``*`` (zero or more characters) between.

    Example:
        >>> Wildcard(("a", "", "b")).fullmatch("a-x-b"), Wildcard(("a",)).fullmatch("ab")
        (True, False)
    """

    segments: tuple[str, ...]

    def fullmatch(self, value: str) -> bool:
        """Whether the whole of ``value`` matches (greedy leftmost segments: no backtracking)."""
        segments = self.segments
        first, last = segments[0], segments[-1]
        if len(segments) == 1:
            return value == first
        if len(value) < len(first) + len(last):
            return False
        if not (value.startswith(first) and value.endswith(last)):
            return False
        position, end = len(first), len(value) - len(last)
        for segment in segments[1:-1]:
            found = value.find(segment, position, end)
            if found < 0:
                return False
            position = found + len(segment)
        return True


def wildcard(text: str, path: tuple[PathItem, ...]) -> Wildcard:
    """Parse an event-ruler wildcard: ``*`` is zero or more characters, ``\\*`` and ``\\\\`` are
    literals, ``**`` and other escapes are refused with event-ruler's messages."""
    segments: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            if text[i + 1 : i + 2] == "*":
                position = len(text[:i].encode("utf-8"))
                raise InvalidPattern(
                    f"Consecutive wildcard characters at pos {position}", path=path
                )
            segments.append("".join(current))
            current = []
        elif char == "\\":
            if text[i + 1 : i + 2] not in ("*", "\\"):
                position = len(text[:i].encode("utf-8"))
                raise InvalidPattern(f"Invalid escape character at pos {position}", path=path)
            current.append(text[i + 1])
            i += 1
        else:
            current.append(char)
        i += 1
    segments.append("".join(current))
    return Wildcard(tuple(segments))


def _forms(char: str) -> tuple[str, ...]:
    """What one pattern character matches: its lower or its upper case, as event-ruler folds it
    (so a title-case character such as ``ǅ`` does not match itself)."""
    return tuple(sorted({char.lower(), char.upper()}))


def _ends(pattern: str, value: str, reverse: bool) -> set[int]:
    """Positions of ``value`` up to which the folded ``pattern`` can match from its start (or,
    with ``reverse``, from its end, counting backwards)."""
    if reverse:
        pattern, value = pattern[::-1], value[::-1]
    positions = {0}
    for char in pattern:
        forms = _forms(char)
        if reverse:
            forms = tuple(form[::-1] for form in forms)
        positions = {p + len(f) for p in positions for f in forms if value.startswith(f, p)}
        if not positions:
            break
    return positions


def _folds(pattern: str, value: str, where: str) -> bool:
    if where == "full":
        return len(value) in _ends(pattern, value, False)
    return bool(_ends(pattern, value, where == "suffix"))


def ignore_case(texts: Sequence[str], where: str) -> Test:
    """A test: a string value equals (``where="full"``), starts with (``"prefix"``) or ends
    with (``"suffix"``) one of ``texts``, each pattern character matching its lower or upper
    case (event-ruler's ``equals-ignore-case``; ``ß`` in the pattern also accepts ``SS``)."""
    if all(text.isascii() for text in texts):
        folded = tuple(text.lower() for text in texts)
        if where == "full":
            choices = frozenset(folded)
            return lambda v: v.__class__ is str and v.isascii() and v.lower() in choices

        def affix(v: Any) -> bool:
            if v.__class__ is not str:
                return False
            for text in folded:
                part = v[: len(text)] if where == "prefix" else v[len(v) - len(text) :]
                if len(part) == len(text) and part.isascii() and part.lower() == text:
                    return True
            return False

        return affix
    return lambda v: v.__class__ is str and any(_folds(text, v, where) for text in texts)
