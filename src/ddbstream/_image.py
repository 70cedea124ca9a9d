"""An item image (``Keys``, ``NewImage`` or ``OldImage``), lazily decoded."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from ._codec import Invalid, decode_attribute, decode_image_into
from ._errors import DataError, DecodeError
from ._reprs import short_repr

__all__ = ["Image", "Owner", "same_attribute"]

_MISSING: Any = object()


class Owner(Protocol):
    """Whose image it is: what an error needs to name the record. A
    :class:`~ddbstream.StreamRecord` is one; it is read only when an error is raised, so an
    image costs nothing to locate until then."""

    @property
    def event_id(self) -> str | None: ...

    @property
    def sequence_number(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _Detached:
    """The owner of an image built on its own: the identity it was given, if any."""

    event_id: str | None = None
    sequence_number: str | None = None


_NOBODY = _Detached()


class Image(Mapping[str, Any]):
    """An item image (``Keys``, ``NewImage`` or ``OldImage``): an immutable mapping of values.

    Each attribute is decoded on first access and cached; ``raw`` keeps the descriptors. Errors
    name the image, the attribute path, and the record's event id and sequence number.

    Example:
        >>> from ddbstream import Image
        >>> image = Image({"InvoiceNumber": {"S": "ABC"}, "Amount": {"N": "12.5"}})
        >>> image["Amount"], image.descriptor("Amount")
        (Decimal('12.5'), {'N': '12.5'})
    """

    __slots__ = ("_cache", "_name", "_owner", "_raw")

    def __init__(
        self,
        raw: Mapping[str, Any],
        *,
        name: str = "Image",
        event_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        if not isinstance(raw, Mapping):
            raise DecodeError(
                f"{name} must be an object, got {type(raw).__name__}",
                path=(name,),
                event_id=event_id,
                sequence_number=sequence_number,
            )
        self._raw = raw
        self._name = name
        self._owner: Owner = (
            _NOBODY
            if event_id is None and sequence_number is None
            else _Detached(event_id, sequence_number)
        )
        self._cache: dict[str, Any] = {}

    @classmethod
    def _of(cls, raw: Mapping[str, Any], name: str, owner: Owner) -> Image:
        """The image ``name`` of a record: ``raw`` is a mapping the record holds, ``owner`` the
        record (read only if an error is raised). Skips the checks of ``__init__``."""
        image = object.__new__(cls)
        image._raw = raw
        image._name = name
        image._owner = owner
        image._cache = {}
        return image

    # -- identity ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """``"Keys"``, ``"NewImage"`` or ``"OldImage"`` in a record (``"Image"`` on its own)."""
        return self._name

    @property
    def event_id(self) -> str | None:
        """The ``eventID`` of the record the image belongs to, when known."""
        try:
            return self._owner.event_id
        except DataError:  # the record's own eventID is malformed
            return None

    @property
    def sequence_number(self) -> str | None:
        """The ``SequenceNumber`` of the record the image belongs to, when known."""
        try:
            return self._owner.sequence_number
        except DataError:
            return None

    def _located(self, error: DecodeError, attribute: str | None = None) -> DecodeError:
        prefix = (self._name,) if attribute is None else (self._name, attribute)
        return error.in_record(
            event_id=self.event_id, sequence_number=self.sequence_number, prefix=prefix
        )

    # -- mapping ----------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        value = self._cache.get(name, _MISSING)
        if value is not _MISSING:
            return value
        av = self._raw[name]
        if type(av) is dict and len(av) == 1:
            value = av.get("S")
            if type(value) is str:
                return value  # an S value decodes to itself: nothing to cache
        try:
            value = decode_attribute(av, 0)
        except Invalid as bad:
            error = DecodeError(bad.reason, path=tuple(reversed(bad.path)))
            raise self._located(error, name) from None
        self._cache[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._raw
        except TypeError:  # an unhashable name is in no image
            return False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return Mapping.__eq__(self, other)
        mine, theirs = self._raw, other._raw
        if mine.keys() != theirs.keys():
            return False
        return all(same_attribute(self, other, name) for name in mine)

    def __hash__(self) -> int:
        # Equal images have the same attribute names; values may differ in spelling ("1.0"/"1").
        return hash(frozenset(self._raw))

    def __repr__(self) -> str:
        try:
            return f"Image({dict(self._raw)!r})"
        except Exception:  # a nest deeper than any image (RecursionError), an unprintable value
            return f"Image({short_repr(dict(self._raw))})"

    @property
    def raw(self) -> Mapping[str, Any]:
        """The attribute descriptors as Lambda sent them (read-only)."""
        raw = self._raw
        return MappingProxyType(raw if isinstance(raw, dict) else dict(raw))

    def descriptor(self, name: str) -> Mapping[str, Any]:
        """The raw descriptor of one attribute, e.g. ``{"N": "12.5"}``."""
        av: Mapping[str, Any] = self._raw[name]
        return av

    def to_dict(self) -> dict[str, Any]:
        """Decode every attribute into a new plain ``dict``."""
        cache = self._cache
        if cache:
            return {name: self[name] for name in self._raw}
        # Nothing read yet: decode the whole image in one loop, straight into the cache (in raw
        # order; on failure the cache keeps the attributes decoded before).
        try:
            decode_image_into(self._raw, cache)
        except DecodeError as exc:
            raise self._located(exc) from None
        return cache.copy()


def same_attribute(left: Image, right: Image, name: str) -> bool:
    """Attribute ``name`` holds the same value in both images: the same types everywhere and
    equal values, so ``{"N": "1.0"}`` equals ``{"N": "1"}`` but not ``{"BOOL": true}``.

    Raises:
        DecodeError: the descriptors differ and either breaks DynamoDB's rules.
    """
    a, b = left._raw[name], right._raw[name]
    try:
        if a is b or a == b:
            return True
    except RecursionError:  # deeper than any descriptor: decoding says so below
        pass
    x, y = left[name], right[name]
    return _type_shape(a) == _type_shape(b) and bool(x == y)


def _type_shape(av: Any) -> Any:
    """The descriptor with every scalar replaced by its tag: equal shapes have equal types."""
    if not isinstance(av, Mapping) or len(av) != 1:
        return None
    ((tag, value),) = av.items()
    if tag == "M" and isinstance(value, Mapping):
        return ("M", {k: _type_shape(v) for k, v in value.items()})
    if tag == "L" and isinstance(value, list):
        return ("L", [_type_shape(v) for v in value])
    return tag
