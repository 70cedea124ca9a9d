"""Additive measures: :class:`Sum`, :class:`Count` and :class:`Average`, abelian groups over
exact Decimals that a sink keeps with ``ADD`` (no read)."""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._measures import Accessor, Algebra, OfAttribute, accessor_repr, exact, read_attribute

__all__ = ["Average", "Count", "Sum"]


class _DecimalSum:
    """The algebra of one Decimal under addition (shared by Sum and Count)."""

    __slots__ = ()

    def zero(self) -> Decimal:
        return Decimal(0)

    def combine(self, left: Decimal, right: Decimal) -> Decimal:
        return exact(lambda: left + right, "a sum")

    def inverse(self, state: Decimal) -> Decimal:
        return -state

    def result(self, state: Decimal) -> Decimal:
        return state

    def dump(self, state: Decimal) -> str:
        return str(state)

    def load(self, data: Any) -> Decimal:
        return Decimal(str(data))

    def columns(self, name: str) -> tuple[str, ...]:
        """The DynamoDB attribute holding the state (added with ``ADD``)."""
        return (name,)

    def split(self, state: Decimal) -> tuple[Decimal, ...]:
        return (state,)

    def join(self, parts: tuple[Decimal, ...]) -> Decimal:
        return parts[0]


@dataclass(frozen=True, slots=True, repr=False)
class Sum(OfAttribute, _DecimalSum):
    """The exact sum of a numeric attribute over a group's current items (an abelian group).

    Args:
        attribute: attribute name, or a function of the image returning the number.
        default: the value of an absent (or NULL) attribute; without it, an absent attribute
            is an :class:`~ddbstream.AggregationError` for the record.
        optional: an absent attribute contributes nothing (no error).

    A value that is not a number raises :class:`~ddbstream.AggregationError`.

    Example:
        >>> from decimal import Decimal
        >>> Sum("Amount").lift({"Amount": Decimal("12.50")})
        Decimal('12.50')
    """

    @property
    def algebra(self) -> Algebra:
        return "group"

    def lift(self, image: object) -> Decimal | None:
        return self.number(image)


@dataclass(frozen=True, slots=True)
class Count(_DecimalSum):
    """The number of items in a group (those passing ``where``; with ``attribute``, those
    where it is present: an absent attribute is what ``Count(attribute)`` counts, not an error).

    Example:
        >>> Count().lift({"Amount": 1}), Count("Paid").lift({"Amount": 1})
        (Decimal('1'), None)
    """

    attribute: Accessor | None = None

    @property
    def algebra(self) -> Algebra:
        return "group"

    def __repr__(self) -> str:
        return "Count()" if self.attribute is None else f"Count({accessor_repr(self.attribute)})"

    def lift(self, image: object) -> Decimal | None:
        if self.attribute is not None and read_attribute(image, self.attribute) is None:
            return None
        return Decimal(1)


@dataclass(frozen=True, slots=True, repr=False)
class Average(OfAttribute):
    """The mean of a numeric attribute, kept as ``(sum, count)`` (an abelian group).

    DynamoDB stores the two parts as ``<name>Sum`` and ``<name>Count``; ``result`` divides.
    ``default`` and ``optional`` work as for :class:`Sum`.

    Example:
        >>> avg = Average("Score")
        >>> avg.result(avg.combine(avg.lift({"Score": 3}), avg.lift({"Score": 4})))
        Decimal('3.5')
    """

    @property
    def algebra(self) -> Algebra:
        return "group"

    def lift(self, image: object) -> tuple[Decimal, Decimal] | None:
        value = self.number(image)
        return None if value is None else (value, Decimal(1))

    def zero(self) -> tuple[Decimal, Decimal]:
        return (Decimal(0), Decimal(0))

    def combine(
        self, left: tuple[Decimal, Decimal], right: tuple[Decimal, Decimal]
    ) -> tuple[Decimal, Decimal]:
        return (
            exact(lambda: left[0] + right[0], "an average's sum"),
            exact(lambda: left[1] + right[1], "an average's count"),
        )

    def inverse(self, state: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
        return (-state[0], -state[1])

    def result(self, state: tuple[Decimal, Decimal]) -> Decimal | None:
        total, count = state
        if not count:
            return None
        with decimal.localcontext(decimal.Context(prec=38)):
            return total / count

    def dump(self, state: tuple[Decimal, Decimal]) -> list[str]:
        return [str(state[0]), str(state[1])]

    def load(self, data: Any) -> tuple[Decimal, Decimal]:
        return (Decimal(str(data[0])), Decimal(str(data[1])))

    def columns(self, name: str) -> tuple[str, ...]:
        return (f"{name}Sum", f"{name}Count")

    def split(self, state: tuple[Decimal, Decimal]) -> tuple[Decimal, ...]:
        return state

    def join(self, parts: tuple[Decimal, ...]) -> tuple[Decimal, Decimal]:
        return (parts[0], parts[1])
