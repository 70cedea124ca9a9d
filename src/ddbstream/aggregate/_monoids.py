"""Append-only and last-writer measures: :class:`Min`, :class:`Max` (commutative monoids) and
:class:`Latest` (a register). None has an inverse: a sink keeps them by read-modify-write.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .._codec import deserialize, serialize
from .._errors import AggregationError
from ._measures import ABSENT, Accessor, Algebra, OfAttribute, accessor_repr, options, required

__all__ = ["Latest", "LatestState", "Max", "Min"]


@dataclass(frozen=True, slots=True, repr=False)
class _Extreme(OfAttribute):
    @property
    def algebra(self) -> Algebra:
        return "monoid"

    def lift(self, image: object) -> Decimal | None:
        return self.number(image)

    def zero(self) -> Decimal | None:
        return None

    def _pick(self, left: Decimal, right: Decimal) -> Decimal:
        raise NotImplementedError

    def combine(self, left: Decimal | None, right: Decimal | None) -> Decimal | None:
        if left is None:
            return right
        if right is None:
            return left
        return self._pick(left, right)

    def inverse(self, state: Decimal | None) -> Decimal | None:
        raise AggregationError(f"{self!r} is append-only: it has no inverse")

    def result(self, state: Decimal | None) -> Decimal | None:
        return state

    def dump(self, state: Decimal | None) -> str | None:
        return None if state is None else str(state)

    def load(self, data: Any) -> Decimal | None:
        return None if data is None else Decimal(str(data))


@dataclass(frozen=True, slots=True, repr=False)
class Min(_Extreme):
    """The smallest value of a numeric attribute, for append-only streams (a monoid).

    A MODIFY that lowers the value in place is fine; one that raises it, a REMOVE, or a move
    to another group would need a recomputation and raises :class:`~ddbstream.AggregationError`.

    Example:
        >>> Min("Price").combine(Min("Price").lift({"Price": 3}), Min("Price").lift({"Price": 2}))
        Decimal('2')
    """

    def _pick(self, left: Decimal, right: Decimal) -> Decimal:
        return min(left, right)


@dataclass(frozen=True, slots=True, repr=False)
class Max(_Extreme):
    """The largest value of a numeric attribute, for append-only streams (a monoid).

    Example:
        >>> Max("Score").combine(Max("Score").lift({"Score": 3}), Max("Score").lift({"Score": 9}))
        Decimal('9')
    """

    def _pick(self, left: Decimal, right: Decimal) -> Decimal:
        return max(left, right)


LatestState = tuple[object, int, object]


@dataclass(frozen=True, slots=True)
class Latest:
    """The last value written into a group: by stream order (``by=None``) or by an attribute.

    A last-writer register (the later write wins; ties on ``by`` are broken by sequence
    number). Deletes and moves out of the group are ignored: a delete does not un-write the
    last value. The state is ``(order, sequence, value)``; :meth:`result` and every sink give
    the plain value (a sink keeps what it needs to compare orders under a bookkeeping name).

    Args:
        attribute: the value to keep (any DynamoDB value).
        by: order by this attribute instead of the stream order.
        default: the value of an absent attribute (without it, absent is an error).
        optional: an image without the attribute contributes nothing.

    Example:
        >>> latest = Latest("Status")
        >>> a = latest.lift_at({"Status": "open"}, 1)
        >>> b = latest.lift_at({"Status": "paid"}, 2)
        >>> latest.result(latest.combine(b, a))
        'paid'
    """

    attribute: Accessor
    by: Accessor | None = None
    default: object = None
    optional: bool = False

    @property
    def algebra(self) -> Algebra:
        return "register"

    def __repr__(self) -> str:
        by = "" if self.by is None else f", by={accessor_repr(self.by)}"
        extra = options(self.default, self.optional)
        return f"Latest({accessor_repr(self.attribute)}{by}{extra})"

    def lift(self, image: object) -> LatestState | None:
        raise AggregationError("Latest needs the record's sequence number: use lift_at")

    def lift_at(self, image: object, sequence: int) -> LatestState | None:
        value = required(
            image, self.attribute, "Latest", default=self.default, optional=self.optional
        )
        if value is ABSENT:
            return None
        if self.by is None:
            return (sequence, sequence, value)
        order = required(image, self.by, "Latest(by=...)", default=None, optional=self.optional)
        return None if order is ABSENT else (order, sequence, value)

    def zero(self) -> LatestState | None:
        return None

    def combine(self, left: LatestState | None, right: LatestState | None) -> LatestState | None:
        if left is None:
            return right
        if right is None:
            return left
        try:
            later = (left[0], left[1]) >= (right[0], right[1])
        except TypeError:
            raise AggregationError(
                f"{self!r}: cannot order {type(left[0]).__name__} against "
                f"{type(right[0]).__name__} values of 'by'"
            ) from None
        return left if later else right

    def inverse(self, state: LatestState | None) -> LatestState | None:
        raise AggregationError(f"{self!r} is a register: it has no inverse")

    def result(self, state: LatestState | None) -> object:
        return None if state is None else state[2]

    def dump(self, state: LatestState | None) -> object:
        if state is None:
            return None
        return [serialize(state[0]), str(state[1]), serialize(state[2])]

    def load(self, data: Any) -> LatestState | None:
        if data is None:
            return None
        return (deserialize(data[0]), int(data[1]), deserialize(data[2]))
