"""``Attribute``: descriptor-aware conditions on the Keys, NewImage and OldImage of a record.

The operand picks the DynamoDB type descriptor (``str`` -> ``S``, numbers -> ``N`` in
DynamoDB's canonical text, ``bool`` -> ``BOOL``, ``bytes`` -> ``B``), unless the attribute is
typed; conditions that can never match fail when they are built.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from .._errors import EncodeError, FilterNotExpressible, UsageError
from ._algebra import simplify
from ._atoms import AnythingBut, Atom, Eq, Field, Kind, Scalar, as_number
from ._builder import FieldBuilder, format_args
from ._expr import Expression, Leaf, expression
from ._model_info import TypeInfo

__all__ = ["Attribute", "canonical_number", "keys", "new_image", "old_image"]

_ROUTER_HINT = (
    "evaluate it locally instead, e.g. where(lambda r: r.new_image['amount'] > 5) "
    "as a router predicate"
)


def canonical_number(value: int | float | Decimal) -> str:
    """The text DynamoDB stores for a number (leading and trailing zeros trimmed, no exponent).

    Lambda compares N values as strings, so a filter must use exactly this text.

    Example:
        >>> from decimal import Decimal
        >>> canonical_number(Decimal("12.50")), canonical_number(100), canonical_number(-0.0)
        ('12.5', '100', '0')
    """
    number = as_number(value)
    if number is None:
        raise FilterNotExpressible(f"{value!r} is not a finite number")
    if not number:
        return "0"
    from .._codec import serialize  # late: the codec is needed only for this check

    try:
        serialize(number)
    except EncodeError as exc:
        raise FilterNotExpressible(
            f"{value!r} cannot be stored in DynamoDB: {exc.reason}"
        ) from None
    return format(number.normalize(), "f")


_PY_DESCRIPTORS = {"S": "str", "N": "number", "B": "bytes", "BOOL": "bool", "NULL": "None"}


def _operand_type(value: object) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, str):
        return "S"
    if isinstance(value, (int, float, Decimal)):
        return "N"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "B"
    if value is None:
        raise FilterNotExpressible(
            "None is not a value a filter can compare; use .null() for a DynamoDB NULL "
            "or .not_exists() for a missing attribute"
        )
    raise FilterNotExpressible(
        f"cannot compare an attribute with a {type(value).__name__}; "
        "use str, int, Decimal, float, bool or bytes"
    )


def _encode(value: object, descriptor: str) -> Scalar:
    if isinstance(value, enum.Enum):
        value = value.value
    if descriptor == "S":
        return str(value)
    if descriptor == "N":
        if isinstance(value, str):
            return canonical_number(Decimal(value)) if _is_number_text(value) else value
        return canonical_number(value)  # type: ignore[arg-type]
    if descriptor == "B":
        if isinstance(value, (bytes, bytearray, memoryview)):
            return base64.b64encode(bytes(value)).decode("ascii")
        return str(value)
    return bool(value)


def _is_number_text(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


_LEAF_DESCRIPTORS = ("S", "N", "B", "BOOL", "NULL")
_SETS = ("SS", "NS", "BS")
_NON_SCALAR = ("M", "L", *_SETS)
_SECTIONS = {"Keys": "keys", "NewImage": "new_image", "OldImage": "old_image"}


class Attribute(FieldBuilder):
    """An attribute of the Keys, NewImage or OldImage of a record (built by :func:`new_image`).

    The comparison picks the DynamoDB type descriptor from the operand (``str`` -> ``S``,
    numbers -> ``N`` in DynamoDB's canonical text, ``bool`` -> ``BOOL``, ``bytes`` -> ``B``),
    unless the attribute is typed (``descriptor=`` or :func:`typed`). Numeric comparisons are
    refused: Lambda sees N values as strings.

    Example:
        >>> from ddbstream.filters import new_image
        >>> (new_image("status") == "SHIPPED").to_patterns()
        [{'dynamodb': {'NewImage': {'status': {'S': ['SHIPPED']}}}}]
    """

    __slots__ = ("_descriptor", "_names", "_section", "_text", "_type")

    def __init__(
        self,
        section: str,
        names: tuple[str, ...],
        *,
        descriptor: str | None = None,
        type_info: TypeInfo | None = None,
        text: str | None = None,
    ) -> None:
        if section not in _SECTIONS:
            raise UsageError(f"{section=} is not one of {sorted(_SECTIONS)}")
        for name in names:
            if not isinstance(name, str) or not name:
                raise UsageError(f"an attribute name must be a non-empty string, got {name!r}")
            if name == "$or":
                raise FilterNotExpressible(
                    "an attribute named '$or' cannot be addressed by a filter pattern: "
                    "event-ruler reads the key $or as an OR of alternatives; use a router "
                    "predicate (where(...))"
                )
        if descriptor is not None and descriptor not in (*_LEAF_DESCRIPTORS, *_NON_SCALAR):
            raise UsageError(f"{descriptor=} is not a DynamoDB scalar type descriptor")
        if section == "Keys" and descriptor not in (None, "S", "N", "B"):
            raise FilterNotExpressible(f"key attributes are S, N or B, not {descriptor}")
        self._section = section
        self._names = names
        self._descriptor = descriptor
        self._type = type_info
        if text is None:
            top = descriptor if len(names) == 1 else None
            text = f"{_SECTIONS[section]}({names[0]!r}"
            text += f", descriptor={top!r})" if top else ")"
            text += "".join(f"[{n!r}]" for n in names[1:])
            if descriptor and not top:
                text += f".with_descriptor({descriptor!r})"
        self._text = text

    def __repr__(self) -> str:
        return self._text

    # -- navigation --------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Attribute:
        """The attribute ``name`` inside this map (M) attribute."""
        if self._descriptor not in (None, "M"):
            raise FilterNotExpressible(f"{self!r} is {self._descriptor}, not a map (M)")
        if self._section == "Keys":
            raise FilterNotExpressible("key attributes are scalars (S, N or B), not maps")
        child: TypeInfo | None = None
        if self._type is not None:
            child = self._type.child(name, where=repr(self))
            name = self._type.attribute_name(name)
        return Attribute(
            self._section,
            (*self._names, name),
            descriptor=child.descriptor if child else None,
            type_info=child,
            text=f"{self._text}[{name!r}]",
        )

    def with_descriptor(self, descriptor: str) -> Attribute:
        """The same attribute with its DynamoDB type fixed (``"S"``, ``"N"``, ``"BOOL"``...).

        Needed for ``exists()`` / ``not_exists()`` on an untyped attribute, and to compare the
        text of an N value (``begins_with`` on ``"N"``).
        """
        return Attribute(
            self._section,
            self._names,
            descriptor=descriptor,
            text=f"{self._text}.with_descriptor({descriptor!r})",
        )

    def __getattr__(self, name: str) -> Attribute:
        if name.startswith("_") or object.__getattribute__(self, "_type") is None:
            raise AttributeError(name)
        return self[name]

    # -- conditions --------------------------------------------------------------------------

    def _field(self, *tail: str) -> Field:
        path: list[str] = ["dynamodb", self._section, self._names[0]]
        for name in self._names[1:]:
            path += ["M", name]
        kind: Kind = {"BOOL": "bool", "NULL": "true"}.get(tail[-1], "str")  # type: ignore[assignment]
        return Field((*path, *tail), kind, multi=tail[0] in (*_SETS, "L"))

    def _resolve(self, values: tuple[object, ...], op: str) -> str:
        found = {_operand_type(v) for v in values}
        if self._descriptor in _NON_SCALAR:
            what = "a set" if self._descriptor in _SETS else "a non-leaf"
            raise FilterNotExpressible(
                f"{self!r} is {self._descriptor}, {what}: the DSL compares scalar attributes "
                "(use exists()/not_exists() on sets, or a router predicate)"
            )
        if len(found) > 1:
            raise FilterNotExpressible(
                f"{self!r}.{op}() mixes value types {sorted(found)}; an attribute holds one "
                "DynamoDB type, so combine typed conditions with | if you really mean several"
            )
        got = found.pop()
        want = self._descriptor or got
        if got != want and not (
            want == "N" and got == "S" and all(_is_number_text(str(v)) for v in values)
        ):
            raise FilterNotExpressible(
                f"{self!r} holds {want} values; {op}() with a {_PY_DESCRIPTORS[got]} operand "
                "can never match"
            )
        if self._section == "Keys" and want not in ("S", "N", "B"):
            raise FilterNotExpressible(f"key attributes are S, N or B, never {want}")
        return want

    def _condition(self, tail: str, atoms: Iterable[Atom], text: str, call: bool) -> Expression:
        field = self._field(*tail.split("."))
        return expression(Leaf(field, simplify(atoms, field), text, call))

    def _equalities(self, values: tuple[object, ...], op: str) -> tuple[str, list[Atom]]:
        d = self._resolve(values, op)
        return d, [Eq(_encode(v, d)) for v in values]

    def _exclusion(self, values: tuple[object, ...]) -> tuple[str, Atom]:
        d = self._resolve(values, "anything_but")
        if d not in ("S", "N", "B"):
            raise FilterNotExpressible(
                f"anything-but takes strings or numbers; for {d} use ~(attr == value)"
            )
        return d, AnythingBut(frozenset(_encode(v, d) for v in values))

    def _textual(self, op: str, text: object) -> str:
        if not isinstance(text, str):
            raise FilterNotExpressible(f"{op}() takes a string, got {type(text).__name__}")
        d = self._descriptor or "S"
        if d not in ("S", "N", "B"):
            raise FilterNotExpressible(f"{op}() never matches {self!r}: it holds {d}, not text")
        return d

    def contains(self, *values: object) -> Expression:
        """A set (SS/NS/BS) or list (L) attribute holds at least one of ``values``.

        Lambda tests every element of an array, so this is an OR over elements; ``~contains``
        and the AND of two ``contains`` on one attribute cannot be expressed.
        """
        if self._descriptor not in (*_SETS, "L"):
            raise FilterNotExpressible(
                f"{self!r}.contains() needs a set or list attribute: "
                f"{_SECTIONS[self._section]}({self._names[0]!r}, descriptor='SS') (or NS, BS, L)"
            )
        if not values:
            raise UsageError(f"{self!r}.contains() needs at least one value")
        found = {_operand_type(v) for v in values}
        if len(found) > 1:
            raise FilterNotExpressible(f"{self!r}.contains() mixes value types {sorted(found)}")
        element = found.pop() if self._descriptor == "L" else self._descriptor[0]
        for value in values:
            if _operand_type(value) != element and not (
                element == "N" and isinstance(value, str) and _is_number_text(value)
            ):
                raise FilterNotExpressible(
                    f"{self!r} holds {element} elements; {value!r} can never match"
                )
        atoms = [Eq(_encode(v, element)) for v in values]
        tail = f"L.{element}" if self._descriptor == "L" else self._descriptor
        return self._condition(tail, atoms, f"{self!r}.contains({format_args(values)})", True)

    def _presence(self, op: str) -> str:
        if self._descriptor in _LEAF_DESCRIPTORS or self._descriptor in _SETS:
            return self._descriptor
        if self._descriptor is None:
            raise FilterNotExpressible(
                f"{self!r}.{op}() needs the attribute's type: Lambda's exists only works on "
                f"the leaf under the type descriptor, e.g. "
                f"{_SECTIONS[self._section]}({self._names[0]!r}, descriptor='S').{op}()"
            )
        raise FilterNotExpressible(
            f"{self!r} is a {self._descriptor} (non-leaf); Lambda's exists never matches it"
        )

    def null(self) -> Expression:
        """The attribute is a DynamoDB NULL (``{"NULL": [true]}``; Lambda's ``[null]`` never is)."""
        if self._descriptor not in (None, "NULL") or self._section == "Keys":
            raise FilterNotExpressible(f"{self!r} holds {self._descriptor}, never NULL")
        return self._condition("NULL", [Eq(True)], f"{self!r}.null()", True)

    def empty(self) -> Expression:
        """The attribute is the empty string (``{"S": [""]}``)."""
        if self._descriptor not in (None, "S"):
            raise FilterNotExpressible(f"{self!r} holds {self._descriptor}, never an empty string")
        return self._condition("S", [Eq("")], f"{self!r}.empty()", True)

    def _numeric(self, op: str, value: object) -> Expression:
        raise FilterNotExpressible(
            f"{self!r} {op} {value!r}: Lambda cannot compare DynamoDB numbers: it compares N "
            f"values as strings (numeric filters never match them); {_ROUTER_HINT}"
        )

    def __lt__(self, value: object) -> Expression:
        return self._numeric("<", value)

    def __le__(self, value: object) -> Expression:
        return self._numeric("<=", value)

    def __gt__(self, value: object) -> Expression:
        return self._numeric(">", value)

    def __ge__(self, value: object) -> Expression:
        return self._numeric(">=", value)

    def between(self, low: object, high: object) -> Expression:
        """Always refused on image attributes (Lambda compares N values as strings)."""
        return self._numeric("between", (low, high))


def _attribute(section: str, name: str, descriptor: str | None) -> Attribute:
    if not isinstance(name, str) or not name:
        raise UsageError(f"an attribute name must be a non-empty string, got {name!r}")
    return Attribute(section, (name,), descriptor=descriptor)


def new_image(name: str, *, descriptor: str | None = None) -> Attribute:
    """An attribute of ``dynamodb.NewImage`` (absent on REMOVE and with KEYS_ONLY/OLD_IMAGE)."""
    return _attribute("NewImage", name, descriptor)


def old_image(name: str, *, descriptor: str | None = None) -> Attribute:
    """An attribute of ``dynamodb.OldImage`` (absent on INSERT and with KEYS_ONLY/NEW_IMAGE)."""
    return _attribute("OldImage", name, descriptor)


def keys(name: str, *, descriptor: str | None = None) -> Attribute:
    """A key attribute (``dynamodb.Keys``), present on every record of every view type."""
    return _attribute("Keys", name, descriptor)
