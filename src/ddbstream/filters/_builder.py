"""The operators every field builder has, written once for :class:`Attribute` and
:class:`RecordField`.

A builder says how it reads operands and where its condition lives (the hooks below); the
operators themselves (``==``, ``!=``, ``is_in``, ``anything_but``, ``begins_with``,
``ends_with``, ``equals_ignore_case``, ``exists``, ``not_exists``) are spelled here, so a new
Lambda operator is one method here plus its atom in :mod:`ddbstream.filters._atoms`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._errors import UsageError
from ._atoms import ABSENT, PRESENT, Atom, IgnoreCase, Prefix, Suffix
from ._expr import Expression

__all__ = ["FieldBuilder", "format_args"]


def format_args(values: tuple[object, ...]) -> str:
    """The Python spelling of call arguments, for reprs."""
    return ", ".join(map(repr, values))


class FieldBuilder:
    """Operators on one field of a record that build :class:`Expression` objects.

    ``==`` and ``!=`` build expressions (through :meth:`equals`) instead of comparing builders,
    so builders are unhashable.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    # -- hooks ------------------------------------------------------------------------------

    def _condition(self, tail: str, atoms: Iterable[Atom], text: str, call: bool) -> Expression:
        """The expression of ``atoms`` on the field (``tail``: the type descriptor path below
        an image attribute, ``""`` for record fields)."""
        raise NotImplementedError

    def _equalities(self, values: tuple[object, ...], op: str) -> tuple[str, list[Atom]]:
        """The atoms equal to each of ``values`` (one type), and where they apply."""
        raise NotImplementedError

    def _exclusion(self, values: tuple[object, ...]) -> tuple[str, Atom]:
        """The anything-but atom excluding ``values``, and where it applies."""
        raise NotImplementedError

    def _textual(self, op: str, text: object) -> str:
        """Check that a string operator applies to the field and ``text``; where it applies."""
        raise NotImplementedError

    def _presence(self, op: str) -> str:
        """Where exists / not_exists apply (the leaf under the descriptor for attributes)."""
        raise NotImplementedError

    # -- operators --------------------------------------------------------------------------

    def equals(self, value: object) -> Expression:
        """Equal to ``value`` (same as ``==``)."""
        tail, atoms = self._equalities((value,), "equals")
        return self._condition(tail, atoms, f"{self!r} == {value!r}", False)

    def __eq__(self, value: object) -> Expression:  # type: ignore[override]
        return self.equals(value)

    def not_equals(self, value: object) -> Expression:
        """``~(field == value)``: also true when the field is missing (unlike anything_but)."""
        return ~self.equals(value)

    def __ne__(self, value: object) -> Expression:  # type: ignore[override]
        return self.not_equals(value)

    def is_in(self, *values: object) -> Expression:
        """Equal to any of ``values`` (one value list; all of one type)."""
        if not values:
            raise UsageError(f"{self!r}.is_in() needs at least one value")
        tail, atoms = self._equalities(values, "is_in")
        return self._condition(tail, atoms, f"{self!r}.is_in({format_args(values)})", True)

    def anything_but(self, *values: object) -> Expression:
        """Present and equal to none of ``values`` (Lambda's ``anything-but``).

        Unlike ``!=`` it never matches a record without the field (AWS semantics).
        """
        if not values:
            raise UsageError(f"{self!r}.anything_but() needs at least one value")
        tail, atom = self._exclusion(values)
        return self._condition(tail, [atom], f"{self!r}.anything_but({format_args(values)})", True)

    def _text_op(self, op: str, text: str, atom: Callable[[str], Atom]) -> Expression:
        tail = self._textual(op, text)
        return self._condition(tail, [atom(text)], f"{self!r}.{op}({text!r})", True)

    def begins_with(self, prefix: str) -> Expression:
        """The string value starts with ``prefix`` (Lambda ``prefix``)."""
        return self._text_op("begins_with", prefix, Prefix)

    def ends_with(self, suffix: str) -> Expression:
        """The string value ends with ``suffix`` (Lambda ``suffix``)."""
        return self._text_op("ends_with", suffix, Suffix)

    def equals_ignore_case(self, text: str) -> Expression:
        """Equal to ``text`` ignoring case (Lambda ``equals-ignore-case``)."""
        return self._text_op("equals_ignore_case", text, IgnoreCase)

    def exists(self) -> Expression:
        """The field is present (for an attribute: with its type, ``{"S": [{"exists": true}]}``)."""
        return self._condition(self._presence("exists"), [PRESENT], f"{self!r}.exists()", True)

    def not_exists(self) -> Expression:
        """The field is missing (for an attribute: or not of its type)."""
        tail = self._presence("not_exists")
        return self._condition(tail, [ABSENT], f"{self!r}.not_exists()", True)
