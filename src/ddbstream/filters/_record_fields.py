"""``RecordField``: conditions on record metadata (event name, size, creation time), TTL deletes."""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Iterable
from decimal import Decimal

from .._errors import FilterNotExpressible, UsageError
from ._atoms import (
    ABSENT,
    PRESENT,
    Field,
    Scalar,
    _AnythingBut,
    _as_number,
    _Atom,
    _Eq,
    _IgnoreCase,
    _Prefix,
    _Range,
    _Suffix,
    normalize,
)
from ._expr import Expression, _AllOf, _EqualityOperators, _Leaf

__all__ = [
    "RecordField",
    "approximate_creation_time",
    "event_name",
    "size_bytes",
    "ttl_delete",
]


class RecordField(_EqualityOperators):
    """A metadata field of the record: :data:`event_name`, :data:`size_bytes`,
    :data:`approximate_creation_time`.

    ``size_bytes`` and ``approximate_creation_time`` are JSON numbers in the record, so they
    (and only they) take ``<``, ``<=``, ``>``, ``>=`` and :meth:`between`.

    Example:
        >>> from ddbstream.filters import event_name, size_bytes
        >>> ((event_name != "REMOVE") & (size_bytes < 1000)).to_patterns()
        ... # doctest: +NORMALIZE_WHITESPACE
        [{'eventName': [{'anything-but': ['REMOVE']}],
          'dynamodb': {'SizeBytes': [{'numeric': ['<', 1000]}]}}]
    """

    __slots__ = ("_choices", "_field", "_name")

    def __init__(self, name: str, field: Field, choices: frozenset[str] | None = None) -> None:
        self._name = name
        self._field = field
        self._choices = choices

    def __repr__(self) -> str:
        return self._name

    def _value(self, value: object) -> Scalar:
        if isinstance(value, enum.Enum):
            value = value.value
        if self._field.kind == "num":
            if isinstance(value, _dt.datetime):
                if value.tzinfo is None:
                    raise FilterNotExpressible(
                        f"{self._name} compares with an aware datetime (UTC); got a naive one"
                    )
                value = Decimal(repr(value.timestamp()))
            number = _as_number(value)
            if number is None:
                raise FilterNotExpressible(
                    f"{self._name} is a JSON number; compare it with a number, got {value!r}"
                )
            return number
        if not isinstance(value, str):
            raise FilterNotExpressible(
                f"{self._name} is a string; comparing it with {value!r} can never match"
            )
        if self._choices is not None and value not in self._choices:
            raise FilterNotExpressible(
                f"{self._name} is one of {sorted(self._choices)}; {value!r} can never match"
            )
        return value

    def _leaf(self, atoms: Iterable[_Atom], text: str, call: bool = True) -> Expression:
        field = self._field
        return _Leaf(field, normalize(atoms, field), text, call)

    def is_in(self, *values: object) -> Expression:
        """Equal to any of ``values``."""
        if not values:
            raise UsageError(f"{self._name}.is_in() needs at least one value")
        atoms = [self._eq(self._value(v)) for v in values]
        return self._leaf(atoms, f"{self._name}.is_in({', '.join(map(repr, values))})")

    def _eq(self, value: Scalar) -> _Atom:
        if isinstance(value, Decimal):
            return _Range(value, True, value, True)
        return _Eq(value)

    def equals(self, value: object) -> Expression:
        """Equal to ``value`` (same as ``==``)."""
        return self._leaf([self._eq(self._value(value))], f"{self._name} == {value!r}", False)

    def anything_but(self, *values: object) -> Expression:
        """Present and equal to none of ``values`` (Lambda's ``anything-but``)."""
        if not values:
            raise UsageError(f"{self._name}.anything_but() needs at least one value")
        atom = _AnythingBut(frozenset(self._value(v) for v in values))
        return self._leaf([atom], f"{self._name}.anything_but({', '.join(map(repr, values))})")

    def _text_op(self, op: str, text: object, atom: type[_Atom]) -> Expression:
        if self._field.kind != "str" or not isinstance(text, str):
            raise FilterNotExpressible(f"{self._name}.{op}() needs a string field and operand")
        return self._leaf([atom(text)], f"{self._name}.{op}({text!r})")  # type: ignore[call-arg]

    def begins_with(self, prefix: str) -> Expression:
        """Starts with ``prefix``."""
        return self._text_op("begins_with", prefix, _Prefix)

    def ends_with(self, suffix: str) -> Expression:
        """Ends with ``suffix``."""
        return self._text_op("ends_with", suffix, _Suffix)

    def equals_ignore_case(self, text: str) -> Expression:
        """Equal to ``text`` ignoring case."""
        return self._text_op("equals_ignore_case", text, _IgnoreCase)

    def exists(self) -> Expression:
        """The field is present."""
        return self._leaf([PRESENT], f"{self._name}.exists()")

    def not_exists(self) -> Expression:
        """The field is missing."""
        return self._leaf([ABSENT], f"{self._name}.not_exists()")

    def _bound(self, op: str, value: object) -> Decimal:
        if self._field.kind != "num":
            raise FilterNotExpressible(
                f"{self._name} is a string; {op} needs a number field "
                "(size_bytes, approximate_creation_time)"
            )
        bound = self._value(value)
        assert isinstance(bound, Decimal)
        return bound

    def _range(self, op: str, atom: _Range, value: object) -> Expression:
        return self._leaf([atom], f"{self._name} {op} {value!r}", False)

    def __lt__(self, value: object) -> Expression:
        return self._range("<", _Range(None, False, self._bound("<", value), False), value)

    def __le__(self, value: object) -> Expression:
        return self._range("<=", _Range(None, False, self._bound("<=", value), True), value)

    def __gt__(self, value: object) -> Expression:
        return self._range(">", _Range(self._bound(">", value), False, None, False), value)

    def __ge__(self, value: object) -> Expression:
        return self._range(">=", _Range(self._bound(">=", value), True, None, False), value)

    def between(self, low: object, high: object) -> Expression:
        """``low <= field <= high`` (inclusive at both ends, unlike CDK's ``between``)."""
        lo, hi = self._bound("between", low), self._bound("between", high)
        atom = _Range(lo, True, hi, True)
        if atom.empty():
            raise FilterNotExpressible(f"{self._name}.between({low!r}, {high!r}) is empty")
        return self._leaf([atom], f"{self._name}.between({low!r}, {high!r})")


#: ``eventName``: INSERT, MODIFY or REMOVE; present on every record.
_EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})
event_name = RecordField(
    "event_name", Field(("eventName",), "str", True, _EVENT_NAMES), _EVENT_NAMES
)
#: ``dynamodb.ApproximateCreationDateTime`` (epoch seconds, a JSON number; takes datetimes).
approximate_creation_time = RecordField(
    "approximate_creation_time", Field(("dynamodb", "ApproximateCreationDateTime"), "num")
)
#: ``dynamodb.SizeBytes`` (a JSON number).
size_bytes = RecordField("size_bytes", Field(("dynamodb", "SizeBytes"), "num"))

_TTL_TYPE = Field(("userIdentity", "type"), "str")
_TTL_PRINCIPAL = Field(("userIdentity", "principalId"), "str")


def ttl_delete() -> Expression:
    """Records of items that DynamoDB's Time to Live deleted (``userIdentity`` is the service).

    ``~ttl_delete()`` keeps every other record (application deletes, inserts, modifies).

    Example:
        >>> from ddbstream.filters import ttl_delete
        >>> ttl_delete().to_patterns()
        [{'userIdentity': {'type': ['Service'], 'principalId': ['dynamodb.amazonaws.com']}}]
    """
    return _AllOf(
        (
            _Leaf(_TTL_TYPE, frozenset({_Eq("Service")}), "ttl_delete().type"),
            _Leaf(_TTL_PRINCIPAL, frozenset({_Eq("dynamodb.amazonaws.com")}), "ttl_delete().pid"),
        ),
        name="ttl_delete()",
    )
