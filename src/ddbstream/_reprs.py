"""How ddbstream shows a value or a callable inside a message or a repr: bounded, never failing.

An error message quotes the bad value it is about, and that value can be anything a caller
passed: a string of a million characters, a list nested ten thousand levels deep, an integer
too large for ``str()``. :func:`short_repr` renders any of them in bounded size, depth and time
(``reprlib``'s way), so building the message never raises and never floods a log.
:func:`name_of` is the one way a function, class or callable object is named in reprs, logs and
messages.
"""

from __future__ import annotations

import functools
import itertools
import reprlib

__all__ = ["name_of", "short_repr"]

_MAX_INT_BITS = 256


class _Bounded(reprlib.Repr):
    def __init__(self, *, level: int, size: int, text: int) -> None:
        super().__init__()
        self.maxlevel = level
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = size
        self.maxfrozenset = self.maxdeque = self.maxarray = size
        self.maxstring = self.maxother = text
        self.maxlong = text

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > _MAX_INT_BITS:  # str() of a huge int raises ValueError, or is slow
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_dict(self, x: dict[object, object], level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        items = itertools.islice(x.items(), self.maxdict)  # insertion order, as repr() shows
        pieces = [f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}" for k, v in items]
        if len(x) > self.maxdict:
            pieces.append("...")
        return "{" + ", ".join(pieces) + "}"

    def repr_str(self, x: str, level: int) -> str:
        if len(x) > self.maxstring:  # quote only the ends: repr() of all of it is O(len)
            half = max(0, (self.maxstring - 3) // 2)
            return repr(x[:half]) + "..." + repr(x[len(x) - half :])
        return repr(x)


_SHORT = _Bounded(level=3, size=4, text=60)


def short_repr(value: object, *, limit: int = 120) -> str:
    """``repr(value)`` cut to at most ``limit`` characters, three levels and four items deep.

    Never raises: a value whose own ``repr`` fails or recurses is shown by its type.

    Example:
        >>> from ddbstream._reprs import short_repr
        >>> deep: list[object] = []
        >>> for _ in range(10_000):
        ...     deep = [deep]
        >>> short_repr(deep)
        '[[[[...]]]]'
        >>> short_repr("x" * 1_000)
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxx'...'xxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
    """
    try:
        text = _SHORT.repr(value)
    except Exception:  # a __repr__ that fails in a way reprlib does not catch
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def name_of(obj: object) -> str:
    """The name a function, class or callable object is shown by (``<locals>.`` dropped).

    Example:
        >>> import functools
        >>> from ddbstream._reprs import name_of
        >>> def ship(record): ...
        >>> name_of(ship), name_of(functools.partial(ship)), name_of(print)
        ('ship', 'partial(ship)', 'print')
    """
    if isinstance(obj, functools.partial):
        return f"partial({name_of(obj.func)})"
    name: object = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    text = name if isinstance(name, str) else type(obj).__qualname__
    return text.rpartition("<locals>.")[2]
