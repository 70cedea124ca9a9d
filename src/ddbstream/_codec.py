"""DynamoDB AttributeValue <-> Python, exactly, in the JSON form Lambda delivers.

``deserialize`` turns one descriptor such as ``{"N": "12.5"}`` into Python and ``serialize`` is
its inverse. The mapping is fixed and lossless::

    S -> str        N -> Decimal      B -> bytes (base64 text on the wire)   BOOL -> bool
    NULL -> None    M -> dict         L -> list     SS/NS/BS -> set of str/Decimal/bytes

DynamoDB's rules are enforced rather than bent: numbers have at most 38 significant digits and
magnitudes from 1E-130 to 9.99...E+125 (no NaN, no Infinity), sets are non-empty, of one type
and without duplicates, binaries are canonical base64, every descriptor has exactly one type
key, and documents nest at most 32 levels. Anything else raises :class:`DecodeError` (or
:class:`EncodeError` when serializing) naming the path of the bad value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from ._errors import DecodeError, EncodeError, PathItem
from ._reprs import short_repr

__all__ = [
    "MAX_NESTING_DEPTH",
    "EncodeError",
    "Invalid",
    "check_number",
    "decode_attribute",
    "decode_image_into",
    "deserialize",
    "deserialize_image",
    "serialize",
    "serialize_image",
]

#: DynamoDB documents nest at most 32 levels, counting an attribute's own value as level 1: at
#: most 31 maps or lists around a value, so level 32 holds only a scalar or a set (measured on
#: DynamoDB Local 3.3.0; a 32nd container, even an empty one, is rejected).
MAX_NESTING_DEPTH = 32
_MAX_CONTAINER_DEPTH = MAX_NESTING_DEPTH - 1
_MAX_DIGITS = 38
_MIN_ADJUSTED = -130
_MAX_ADJUSTED = 125

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class _Bad(Exception):
    """Internal: a failure deep in a value; containers prepend their key on the way out."""

    __slots__ = ("path", "reason")

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.path: list[PathItem] = []


def _fail(reason: str) -> NoReturn:
    raise _Bad(reason)


def _short(value: Any) -> str:
    return short_repr(value, limit=60)


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------
#
# The hot path is written for speed, measured with bench/decode.py: S and N are tested first
# (they are most attributes), with dict lookups instead of a loop over the one tag; plain
# numbers are recognised with str methods instead of a regex; map and list loops decode S and N
# children inline instead of calling _decode; and nothing builds a path until something fails.
# Every fast path only accepts input the slow path would accept with the same result, and falls
# back to it otherwise, so errors and their messages come from one place.
#
# A plain number is "-"?, digits and at most one ".", all ASCII, at most 38 characters:
#     len(t) <= _MAX_DIGITS and t.isascii()
#     and (t.isdigit() or t.removeprefix("-").replace(".", "", 1).isdigit())
# Decimal reads such text exactly, and it always has at most 38 significant digits and a
# magnitude within DynamoDB's range, so it needs no further check.

_MISSING: Any = object()

#: Decoded plain numbers by their text. Streams repeat numbers (an OldImage and a NewImage share
#: most values; counts, versions and flags recur), and a dict lookup costs far less than checking
#: the text and building a Decimal. Decimals are immutable, so sharing them is safe. Only text
#: that passed the plain-number check is stored; the cache is emptied when it is full.
_NUMBERS: dict[str, Decimal] = {}
_NUMBERS_MAX = 4096


def _plain(text: str) -> Decimal | None:
    """The Decimal of a plain number (cached), or None when ``text`` needs the full check."""
    if (
        len(text) <= _MAX_DIGITS
        and text.isascii()
        and (text.isdigit() or text.removeprefix("-").replace(".", "", 1).isdigit())
    ):
        value = _NUMBERS[text] = Decimal(text)
        if len(_NUMBERS) > _NUMBERS_MAX:
            _NUMBERS.clear()
        return value
    return None


def _number(text: Any) -> Decimal:
    if type(text) is not str:
        _fail(f"N value must be a string, got {type(text).__name__} {_short(text)}")
    if (
        len(text) <= _MAX_DIGITS
        and text.isascii()
        and (text.isdigit() or text.removeprefix("-").replace(".", "", 1).isdigit())
    ):
        return Decimal(text)
    if not _NUMBER.fullmatch(text):
        _fail(f"N value {_short(text)} is not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:  # the regex admits it, but its exponent is beyond any number's
        _fail(f"N value {_short(text)} has an exponent DynamoDB cannot read")
    _check_number(value, text)
    return value


def check_number(value: Decimal) -> str | None:
    """Why DynamoDB cannot store ``value``, or None when it can.

    DynamoDB numbers are finite, have at most 38 significant digits (trailing zeros are not
    significant: ``1.2E+40`` is fine) and, unless zero, a magnitude from 1E-130 to 9.99...E+125.
    A zero is stored whatever its exponent. The check takes time linear in the digits, whatever
    the exponent. The codec and the aggregation engine both hold numbers to this one rule.

    Example:
        >>> from decimal import Decimal
        >>> from ddbstream._codec import check_number
        >>> check_number(Decimal("12.50")) is None, check_number(Decimal("0E-999999"))
        (True, None)
        >>> check_number(Decimal("1E+126"))
        "is larger in magnitude than DynamoDB's 9.99...E+125"
    """
    if not value.is_finite():
        return "is not a finite number"
    if not value:
        return None
    adjusted = value.adjusted()
    if adjusted > _MAX_ADJUSTED:
        return "is larger in magnitude than DynamoDB's 9.99...E+125"
    if adjusted < _MIN_ADJUSTED:
        return "is smaller in magnitude than DynamoDB's 1E-130"
    significant = len(bytes(value.as_tuple().digits).rstrip(b"\0"))
    if significant > _MAX_DIGITS:
        return f"has {significant} significant digits; DynamoDB keeps at most {_MAX_DIGITS}"
    return None


def _check_number(value: Decimal, shown: object) -> None:
    problem = check_number(value)
    if problem is not None:
        _fail(f"N value {_short(shown)} {problem}")


def _binary(text: Any) -> bytes:
    if type(text) is str:
        # Fast path: text that is exactly the base64 encoding of what it decodes to is valid
        # and canonical, whatever decoder reads it.
        try:
            raw = binascii.a2b_base64(text)
        except (binascii.Error, ValueError):
            pass
        else:
            if binascii.b2a_base64(raw, newline=False) == text.encode("ascii"):
                return raw
    if type(text) is not str:
        _fail(f"B value must be base64 text, got {type(text).__name__} {_short(text)}")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        _fail(f"B value {_short(text)} is not valid base64")
    if base64.b64encode(raw).decode("ascii") != text:
        _fail(f"B value {_short(text)} is not canonical base64")
    return raw


def _string(value: Any) -> str:
    if type(value) is not str:
        _fail(f"S value must be a string, got {type(value).__name__} {_short(value)}")
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        _fail(f"BOOL value must be true or false, got {_short(value)}")
    return value


def _null(value: Any) -> None:
    if value is not True:
        _fail(f"NULL value must be true, got {_short(value)}")


def _fill(value: dict[Any, Any], depth: int, out: dict[Any, Any], names: str | None) -> None:
    """Decode each descriptor of ``value`` at ``depth`` into ``out`` under the same key.

    ``names`` says how a non-string key fails: ``"map"``, ``"image"``, or None to allow it.
    On failure ``out`` keeps what was decoded before, and the key is added to the error path.
    """
    key: Any = None
    numbers = _NUMBERS
    try:
        for key, item in value.items():
            if type(item) is dict and len(item) == 1 and type(key) is str:
                text = item.get("S", _MISSING)
                if text is not _MISSING:
                    if type(text) is str:
                        out[key] = text
                        continue
                else:
                    text = item.get("N", _MISSING)
                    if text is not _MISSING:
                        if type(text) is str:
                            number = numbers.get(text)
                            if number is not None:
                                out[key] = number
                                continue
                            if (  # _plain(text), inline
                                len(text) <= _MAX_DIGITS
                                and text.isascii()
                                and (
                                    text.isdigit()
                                    or text.removeprefix("-").replace(".", "", 1).isdigit()
                                )
                            ):
                                out[key] = numbers[text] = Decimal(text)
                                if len(numbers) > _NUMBERS_MAX:
                                    numbers.clear()
                                continue
                    elif type(item.get("BOOL")) is bool:
                        out[key] = item["BOOL"]
                        continue
                out[key] = _tagged(item, depth)
                continue
            elif names is not None and type(key) is not str:
                if names == "map":
                    _fail(f"map key must be a string, got {type(key).__name__} {_short(key)}")
                _fail(f"attribute name must be a string, got {_short(key)}")
            out[key] = _decode(item, depth)
    except _Bad as bad:
        bad.path.append(key)
        raise


def _map(value: Any, depth: int) -> dict[str, Any]:
    if type(value) is not dict:
        if not isinstance(value, Mapping):
            _fail(f"M value must be an object, got {type(value).__name__}")
        value = dict(value)
    if depth >= _MAX_CONTAINER_DEPTH:
        _fail(f"document nests deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")
    out: dict[str, Any] = {}
    _fill(value, depth + 1, out, "map")
    return out


def _list(value: Any, depth: int) -> list[Any]:
    if type(value) is not list:
        _fail(f"L value must be an array, got {type(value).__name__}")
    if depth >= _MAX_CONTAINER_DEPTH:
        _fail(f"document nests deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")
    out: list[Any] = []
    append = out.append
    numbers = _NUMBERS
    depth += 1
    try:
        for item in value:
            if type(item) is dict and len(item) == 1:
                text = item.get("S", _MISSING)
                if text is not _MISSING:
                    if type(text) is str:
                        append(text)
                        continue
                else:
                    text = item.get("N", _MISSING)
                    if type(text) is str:
                        number = numbers.get(text)
                        if number is None:
                            number = _plain(text)
                        if number is not None:
                            append(number)
                            continue
                append(_tagged(item, depth))
                continue
            append(_decode(item, depth))
    except _Bad as bad:
        bad.path.append(len(out))  # every earlier element was appended exactly once
        raise
    return out


_ONLY_STR = {str}


def _set(tag: str, value: Any, member: Any) -> set[Any]:
    if type(value) is list and value:
        # Fast paths for well-formed sets; anything else takes the checking loop below.
        if tag == "SS":
            if set(map(type, value)) == _ONLY_STR:
                out = set(value)
                if len(out) == len(value):
                    return out
        elif tag == "NS":
            numbers: list[Decimal] = []
            for text in value:
                if not (
                    type(text) is str
                    and len(text) <= _MAX_DIGITS
                    and text.isascii()
                    and (text.isdigit() or text.removeprefix("-").replace(".", "", 1).isdigit())
                ):
                    break
                numbers.append(Decimal(text))
            else:
                out = set(numbers)
                if len(out) == len(value):
                    return out
    return _set_checked(tag, value, member)


def _set_checked(tag: str, value: Any, member: Any) -> set[Any]:
    if type(value) is not list:
        _fail(f"{tag} value must be an array, got {type(value).__name__}")
    if not value:
        _fail(f"{tag} value is empty; DynamoDB sets hold at least one element")
    out: set[Any] = set()
    for index, item in enumerate(value):
        try:
            decoded = member(item)
            if decoded in out:
                _fail(f"{tag} value has the duplicate element {_short(item)}")
        except _Bad as bad:
            bad.path.append(index)
            raise
        out.add(decoded)
    return out


def _decode(av: Any, depth: int) -> Any:
    if type(av) is dict and len(av) == 1:
        value = av.get("S", _MISSING)
        if value is not _MISSING:
            return value if type(value) is str else _string(value)
        value = av.get("N", _MISSING)
        if value is not _MISSING:
            if type(value) is str:
                number = _NUMBERS.get(value)
                if number is None:
                    number = _plain(value)
                if number is not None:
                    return number
            return _number(value)
        return _tagged(av, depth)
    return _decode_unusual(av, depth)


def _tagged(av: dict[Any, Any], depth: int) -> Any:
    """:func:`_decode` for a ``dict`` with exactly one key, the tag."""
    for tag, value in av.items():
        if tag == "M":
            return _map(value, depth)
        if tag == "L":
            return _list(value, depth)
        if tag == "BOOL":
            return value if type(value) is bool else _bool(value)
        if tag == "NULL":
            return _null(value)
        if tag == "B":
            return _binary(value)
        if tag == "SS":
            return _set(tag, value, _string)
        if tag == "NS":
            return _set(tag, value, _number)
        if tag == "BS":
            return _set(tag, value, _binary)
        if tag == "S":
            return _string(value)
        if tag == "N":
            return _number(value)
        _fail(f"unknown AttributeValue type {_short(tag)}")
    raise AssertionError("unreachable")  # pragma: no cover


def _decode_unusual(av: Any, depth: int) -> Any:
    """The checks :func:`_decode` skips for the usual ``dict`` with one key."""
    if type(av) is not dict:
        if not isinstance(av, Mapping):
            _fail(f"an AttributeValue must be an object with one type key, got {_short(av)}")
        av = dict(av)
    if len(av) != 1:
        if not av:
            _fail("an AttributeValue must have exactly one type key, got none")
        _fail(f"an AttributeValue must have exactly one type key, got {sorted(map(str, av))}")
    return _decode(av, depth)


#: The codec's own decoder and failure, for the in-package caller that locates errors itself
#: (:class:`~ddbstream.Image`, one attribute at a time, without the frame ``deserialize`` adds):
#: ``decode_attribute(av, 0)`` returns the value or raises :class:`Invalid`, whose ``reason``
#: says what is wrong and whose ``path`` lists the keys from the bad value outwards.
decode_attribute = _decode
Invalid = _Bad


def deserialize(attribute_value: Mapping[str, Any], *, path: tuple[PathItem, ...] = ()) -> Any:
    """Decode one DynamoDB AttributeValue in Lambda's JSON form into Python.

    Args:
        attribute_value: a descriptor such as ``{"N": "12.5"}`` or ``{"M": {...}}``.
        path: where the value sits, used only to locate errors (for example
            ``("NewImage", "items")``).

    Returns:
        ``str``, ``Decimal``, ``bytes``, ``bool``, ``None``, ``dict``, ``list`` or ``set``.

    Raises:
        DecodeError: the value breaks a DynamoDB rule; ``exc.path`` locates it.

    Example:
        >>> from ddbstream import deserialize
        >>> deserialize({"M": {"qty": {"N": "3"}, "tags": {"SS": ["a"]}}})
        {'qty': Decimal('3'), 'tags': {'a'}}
    """
    try:
        return _decode(attribute_value, 0)
    except _Bad as bad:
        raise DecodeError(bad.reason, path=path + tuple(reversed(bad.path))) from None
    except RecursionError:  # pragma: no cover - depth is bounded before recursion runs out
        raise DecodeError("value nests too deeply", path=path) from None


def deserialize_image(
    image: Mapping[str, Mapping[str, Any]], *, path: tuple[PathItem, ...] = ()
) -> dict[str, Any]:
    """Decode a whole item (``{"name": {"S": "x"}, ...}``) into a plain ``dict``.

    Example:
        >>> from ddbstream import deserialize_image
        >>> deserialize_image({"InvoiceNumber": {"S": "ABC"}, "Amount": {"N": "100"}})
        {'InvoiceNumber': 'ABC', 'Amount': Decimal('100')}
    """
    if not isinstance(image, Mapping):
        raise DecodeError(f"an image must be an object, got {type(image).__name__}", path=path)
    out: dict[str, Any] = {}
    try:
        decode_image_into(image, out)
    except DecodeError as exc:
        raise exc.in_record(event_id=None, sequence_number=None, prefix=path) from None
    return out


def decode_image_into(image: Mapping[str, Any], out: dict[str, Any]) -> None:
    """Decode every attribute of ``image`` into ``out``, in order (what an :class:`Image` fills
    its cache with). On a failure ``out`` keeps the attributes decoded before it.

    Raises:
        DecodeError: naming the path inside the image (``("items", 3)``).
    """
    try:
        _fill(image if type(image) is dict else dict(image.items()), 0, out, "image")
    except _Bad as bad:
        raise DecodeError(bad.reason, path=tuple(reversed(bad.path))) from None


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def _encode_number(value: int | Decimal) -> str:
    number = Decimal(value) if type(value) is not Decimal else value
    _check_number(number, value)
    if not number and number.as_tuple().exponent < _MIN_ADJUSTED:  # type: ignore[operator]
        return "0"  # what DynamoDB stores; "0.000..." would be as long as the exponent is big
    return format(number, "f")


def _encode_binary(value: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _encode_set(value: set[Any] | frozenset[Any]) -> dict[str, list[Any]]:
    if not value:
        _fail("an empty set cannot be stored; DynamoDB sets hold at least one element")
    kinds = set()
    for item in value:
        if isinstance(item, str):
            kinds.add("SS")
        elif isinstance(item, bool):
            _fail("a set of booleans cannot be stored; DynamoDB has SS, NS and BS only")
        elif isinstance(item, (int, Decimal)):
            kinds.add("NS")
        elif isinstance(item, (bytes, bytearray, memoryview)):
            kinds.add("BS")
        else:
            _fail(f"a set element must be str, int, Decimal or bytes, got {type(item).__name__}")
    if len(kinds) != 1:
        _fail(f"a set must hold one type, got {sorted(kinds)}")
    tag = kinds.pop()
    if tag == "SS":
        return {"SS": sorted(value)}
    if tag == "NS":
        numbers = sorted(Decimal(v) for v in value)
        return {"NS": [_encode_number(v) for v in numbers]}
    return {"BS": [_encode_binary(v) for v in sorted(bytes(v) for v in value)]}


def _encode(value: Any, depth: int) -> dict[str, Any]:
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if kind is int or kind is Decimal:
        return {"N": _encode_number(value)}
    if kind is float:
        _fail(
            f"float {value!r} is inexact; pass Decimal(str(x)) or an int "
            "(DynamoDB numbers are decimal)"
        )
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"B": _encode_binary(value)}
    if isinstance(value, Mapping):
        if depth >= _MAX_CONTAINER_DEPTH:
            _fail(f"document nests deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")
        out: dict[str, Any] = {}
        for key, item in value.items():
            try:
                if type(key) is not str:
                    _fail(f"map key must be a string, got {type(key).__name__} {_short(key)}")
                out[key] = _encode(item, depth + 1)
            except _Bad as bad:
                bad.path.append(key)
                raise
        return {"M": out}
    if isinstance(value, (list, tuple)):
        if depth >= _MAX_CONTAINER_DEPTH:
            _fail(f"document nests deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")
        items: list[Any] = []
        for index, item in enumerate(value):
            try:
                items.append(_encode(item, depth + 1))
            except _Bad as bad:
                bad.path.append(index)
                raise
        return {"L": items}
    if isinstance(value, (set, frozenset)):
        return _encode_set(value)
    if isinstance(value, bool):
        return {"BOOL": bool(value)}
    if isinstance(value, (int, Decimal)):
        return {"N": _encode_number(value)}
    if isinstance(value, str):
        return {"S": str(value)}
    binary = getattr(value, "value", None)  # boto3.dynamodb.types.Binary
    if type(value).__name__ == "Binary" and isinstance(binary, bytes):
        return {"B": _encode_binary(binary)}
    _fail(f"cannot store a {type(value).__name__} in DynamoDB")


def serialize(value: Any, *, path: tuple[PathItem, ...] = ()) -> dict[str, Any]:
    """Encode a Python value as a DynamoDB AttributeValue in Lambda's JSON form.

    The inverse of :func:`deserialize`: ``deserialize(serialize(v)) == v`` for every value
    DynamoDB can hold. ``bytes`` become base64 text, sets are emitted in sorted order, and
    numbers are written in plain notation, as DynamoDB itself returns them, keeping their exact
    digits (``Decimal("1.50")`` stays ``"1.50"``, ``Decimal("1E+3")`` becomes ``"1000"``).

    Raises:
        EncodeError: a float (inexact), NaN or Infinity, a number beyond 38 digits or out of
            range, an empty or mixed set, a non-string map key, or nesting beyond 32 levels.

    Example:
        >>> from decimal import Decimal
        >>> from ddbstream import serialize
        >>> serialize({"qty": 3, "price": Decimal("9.99"), "raw": b"hi"})
        {'M': {'qty': {'N': '3'}, 'price': {'N': '9.99'}, 'raw': {'B': 'aGk='}}}
    """
    try:
        return _encode(value, 0)
    except _Bad as bad:
        raise EncodeError(bad.reason, path=path + tuple(reversed(bad.path))) from None


def serialize_image(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Encode a whole item (a mapping of attribute names to Python values).

    Example:
        >>> from ddbstream import serialize_image
        >>> serialize_image({"InvoiceNumber": "ABC", "Amount": 100})
        {'InvoiceNumber': {'S': 'ABC'}, 'Amount': {'N': '100'}}
    """
    if not isinstance(item, Mapping):
        raise EncodeError(f"an item must be a mapping, got {type(item).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for name, value in item.items():
        if type(name) is not str:
            raise EncodeError(f"attribute name must be a string, got {_short(name)}")
        out[name] = serialize(value, path=(name,))
    return out
