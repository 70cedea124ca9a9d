"""An item image (``Keys``, ``NewImage`` or ``OldImage``), lazily decoded."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, cast

from ._codec import _Bad, _decode, _fill
from ._errors import DecodeError, PathItem

__all__ = ["Image", "same_value"]

_MISSING: Any = object()


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

    # ``_where`` locates errors: an ``(event_id, sequence_number)`` pair, or the StreamRecord
    # the image belongs to (read only when an error is raised, so building an image is cheap).
    __slots__ = ("_cache", "_name", "_raw", "_where")

    def __init__(
        self,
        raw: Mapping[str, Any],
        *,
        name: str = "Image",
        event_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise DecodeError(
                f"{name} must be an object, got {type(raw).__name__}",
                path=(name,),
                event_id=event_id,
                sequence_number=sequence_number,
            )
        self._raw = raw
        self._name = name
        self._where: Any = (event_id, sequence_number)
        self._cache: dict[str, Any] = {}

    @property
    def _event_id(self) -> str | None:
        where = self._where
        return where[0] if type(where) is tuple else where._record.get("eventID")  # type: ignore[no-any-return]

    @property
    def _sequence_number(self) -> str | None:
        where = self._where
        return where[1] if type(where) is tuple else where.sequence_number  # type: ignore[no-any-return]

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
            value = _decode(av, 0)
        except _Bad as bad:
            raise self._error(bad.reason, (name, *reversed(bad.path))) from None
        self._cache[name] = value
        return value

    def _error(self, reason: str, path: tuple[PathItem, ...]) -> DecodeError:
        return DecodeError(
            reason,
            path=(self._name, *path),
            event_id=self._event_id,
            sequence_number=self._sequence_number,
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Image):
            mine, theirs = self._raw, other._raw
            if mine == theirs:
                return True
            return mine.keys() == theirs.keys() and all(
                mine[name] == theirs[name]
                or same_value(mine[name], theirs[name], self[name], other[name])
                for name in mine
            )
        return Mapping.__eq__(self, other)

    def __hash__(self) -> int:
        # Equal images have the same attribute names; values may differ in spelling ("1.0"/"1").
        return hash(frozenset(self._raw))

    def __repr__(self) -> str:
        return f"Image({dict(self._raw)!r})"

    @property
    def raw(self) -> Mapping[str, Any]:
        """The attribute descriptors as Lambda sent them (read-only)."""
        return (
            MappingProxyType(dict(self._raw))
            if not isinstance(self._raw, dict)
            else (MappingProxyType(self._raw))
        )

    def descriptor(self, name: str) -> Mapping[str, Any]:
        """The raw descriptor of one attribute, e.g. ``{"N": "12.5"}``."""
        return cast(Mapping[str, Any], self._raw[name])

    def to_dict(self) -> dict[str, Any]:
        """Decode every attribute into a new plain ``dict``."""
        raw = self._raw
        cache = self._cache
        if not cache and type(raw) is dict:
            # Nothing read yet: decode the whole image in one loop, straight into the cache
            # (in raw order; on failure the cache keeps the attributes decoded before).
            try:
                _fill(raw, 0, cache, None)
            except _Bad as bad:
                raise self._error(bad.reason, tuple(reversed(bad.path))) from None
            return cache.copy()
        return {name: self[name] for name in raw}


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


def same_value(a: Mapping[str, Any], b: Mapping[str, Any], x: Any, y: Any) -> bool:
    """Two descriptors hold the same value: same types everywhere and equal decoded values
    (so ``{"N": "1.0"}`` equals ``{"N": "1"}`` but not ``{"BOOL": true}``)."""
    return _type_shape(a) == _type_shape(b) and bool(x == y)
