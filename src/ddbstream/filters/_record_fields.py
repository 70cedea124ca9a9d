"""``RecordField``: conditions on record metadata (event name, size, creation time), TTL deletes."""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Iterable
from decimal import Decimal

from .._errors import FilterNotExpressible
from ._algebra import simplify
from ._atoms import AnythingBut, Atom, Eq, Field, Range, Scalar, as_number
from ._builder import FieldBuilder
from ._expr import AllOf, Expression, Leaf, expression
from ._record import EVENT_NAMES

__all__ = [
    "RecordField",
    "approximate_creation_time",
    "event_name",
    "size_bytes",
    "ttl_delete",
]


class RecordField(FieldBuilder):
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
            number = as_number(value)
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

    def _condition(self, tail: str, atoms: Iterable[Atom], text: str, call: bool) -> Expression:
        field = self._field
        return expression(Leaf(field, simplify(atoms, field), text, call))

    def _eq(self, value: Scalar) -> Atom:
        if isinstance(value, Decimal):
            return Range(value, True, value, True)
        return Eq(value)

    def _equalities(self, values: tuple[object, ...], op: str) -> tuple[str, list[Atom]]:
        return "", [self._eq(self._value(v)) for v in values]

    def _exclusion(self, values: tuple[object, ...]) -> tuple[str, Atom]:
        return "", AnythingBut(frozenset(self._value(v) for v in values))

    def _textual(self, op: str, text: object) -> str:
        if self._field.kind != "str" or not isinstance(text, str):
            raise FilterNotExpressible(f"{self._name}.{op}() needs a string field and operand")
        return ""

    def _presence(self, op: str) -> str:
        return ""

    def _bound(self, op: str, value: object) -> Decimal:
        if self._field.kind != "num":
            raise FilterNotExpressible(
                f"{self._name} is a string; {op} needs a number field "
                "(size_bytes, approximate_creation_time)"
            )
        bound = self._value(value)
        assert isinstance(bound, Decimal)
        return bound

    def _range(self, op: str, atom: Range, value: object) -> Expression:
        return self._condition("", [atom], f"{self._name} {op} {value!r}", False)

    def __lt__(self, value: object) -> Expression:
        return self._range("<", Range(None, False, self._bound("<", value), False), value)

    def __le__(self, value: object) -> Expression:
        return self._range("<=", Range(None, False, self._bound("<=", value), True), value)

    def __gt__(self, value: object) -> Expression:
        return self._range(">", Range(self._bound(">", value), False, None, False), value)

    def __ge__(self, value: object) -> Expression:
        return self._range(">=", Range(self._bound(">=", value), True, None, False), value)

    def between(self, low: object, high: object) -> Expression:
        """``low <= field <= high`` (inclusive at both ends, unlike CDK's ``between``)."""
        lo, hi = self._bound("between", low), self._bound("between", high)
        atom = Range(lo, True, hi, True)
        if atom.empty():
            raise FilterNotExpressible(f"{self._name}.between({low!r}, {high!r}) is empty")
        return self._condition("", [atom], f"{self._name}.between({low!r}, {high!r})", True)


#: ``eventName``: INSERT, MODIFY or REMOVE; present on every record.
_EVENT_NAMES = frozenset(EVENT_NAMES)
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
    return expression(
        AllOf(
            (
                Leaf(_TTL_TYPE, frozenset({Eq("Service")}), "ttl_delete().type"),
                Leaf(_TTL_PRINCIPAL, frozenset({Eq("dynamodb.amazonaws.com")}), "ttl_delete().pid"),
            ),
            name="ttl_delete()",
        )
    )
