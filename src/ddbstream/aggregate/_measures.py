"""Measures: what an aggregator computes per group, and the algebra each one needs.

A measure turns one item image into a *contribution* (``lift``) and folds contributions with
``combine`` starting from ``zero``. What a measure can do under changes depends on its algebra:

* ``"group"`` (an abelian group: ``zero``, ``combine``, ``inverse``): a MODIFY or REMOVE
  retracts the old contribution exactly, so totals follow inserts, updates and deletes.
  :class:`Sum`, :class:`Count` and :class:`Average` are groups over exact ``Decimal``.
* ``"monoid"`` (a commutative monoid, append-only): there is no inverse, so a retraction is an
  :class:`~ddbstream.AggregationError` unless the new contribution absorbs the old one
  (``combine(old, new) == new``: a Max that grows in place). :class:`Min` and :class:`Max`.
* :class:`Latest` is a last-writer register: a monoid whose retractions are ignored, because a
  delete does not un-write the last value written.

Arithmetic uses :data:`DYNAMODB_CONTEXT` (38 significant digits, DynamoDB's exponent range) with
every trap on, so an inexact or out-of-range result raises instead of rounding.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from .._errors import AggregationError

__all__ = [
    "DYNAMODB_CONTEXT",
    "Algebra",
    "Average",
    "Count",
    "Latest",
    "Max",
    "Measure",
    "Min",
    "Sum",
    "exact",
    "read_attribute",
]

Algebra = Literal["group", "monoid"]
Accessor = str | Callable[[Any], Any]

#: DynamoDB's number rules as a decimal context: 38 digits, exponents -130..125, every trap on.
DYNAMODB_CONTEXT = decimal.Context(
    prec=38,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-128,
    Emax=126,
    traps=[
        decimal.Clamped,
        decimal.Overflow,
        decimal.Inexact,
        decimal.Rounded,
        decimal.Underflow,
        decimal.InvalidOperation,
        decimal.DivisionByZero,
    ],
)
# Wide enough that sums and differences of DynamoDB numbers are always exact; the result is
# then checked against DynamoDB's rules (trailing zeros are not significant: 1.2E+38 is fine).
_EXACT = decimal.Context(
    prec=400,
    Emin=-999_999,
    Emax=999_999,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)
_MAX_DIGITS = 38


def _fits(value: Decimal) -> bool:
    if not value:
        return True
    digits = value.as_tuple().digits
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
    return significant <= _MAX_DIGITS and -130 <= value.adjusted() <= 125


def exact(operation: Callable[[], Decimal], what: str) -> Decimal:
    """Run ``operation`` exactly; a result DynamoDB cannot store raises instead of rounding.

    Raises:
        AggregationError: the exact result has more than 38 significant digits or is out of
            DynamoDB's range (1E-130 to 9.99E+125 in magnitude).
    """
    with decimal.localcontext(_EXACT):
        try:
            result = +operation()
        except decimal.DecimalException as exc:
            raise AggregationError(
                f"{what} is not an exact decimal: {type(exc).__name__}"
            ) from None
    if not _fits(result):
        raise AggregationError(
            f"{what} = {result} does not fit a DynamoDB number (38 significant digits, "
            "magnitude 1E-130..9.99E+125); totals are never rounded"
        )
    return result


def read_attribute(image: Any, accessor: Accessor) -> Any:
    """Read one value from an image (a Mapping or a model instance); ``None`` when absent."""
    if callable(accessor):
        return accessor(image)
    if isinstance(image, Mapping):
        return image.get(accessor)
    return getattr(image, accessor, None)


def _number(image: Any, accessor: Accessor, measure: str) -> Decimal | None:
    value = read_attribute(image, accessor)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise AggregationError(
            f"{measure} needs a number, got {type(value).__name__} {value!r}",
            path=(accessor if isinstance(accessor, str) else getattr(accessor, "__name__", "?"),),
        )
    return exact(lambda: Decimal(value), f"{measure} input {value!r}")


def _accessor_repr(accessor: Accessor) -> str:
    return repr(accessor) if isinstance(accessor, str) else getattr(accessor, "__name__", "<fn>")


@runtime_checkable
class Measure(Protocol):
    """What a user measure implements (structural: no base class to inherit).

    ``algebra`` states what the measure needs: ``"group"`` for an abelian group (``zero``,
    ``combine``, ``inverse``; deltas of updates and deletes are exact) or ``"monoid"`` for a
    commutative monoid (append-only; a retraction raises unless the new value absorbs the old).
    ``combine`` must be associative and commutative: records are coalesced in any order.
    States must be JSON-safe through ``dump``/``load`` for tumbling windows.
    """

    @property
    def algebra(self) -> Algebra: ...

    def lift(self, image: Any) -> Any | None:
        """The contribution of one image, or None when it contributes nothing."""

    def zero(self) -> Any: ...

    def combine(self, left: Any, right: Any) -> Any: ...

    def inverse(self, state: Any) -> Any:
        """The inverse of a state (only called when ``algebra == "group"``)."""

    def result(self, state: Any) -> Any:
        """The user-facing value of a state (e.g. an average from ``(sum, count)``)."""

    def dump(self, state: Any) -> Any:
        """A JSON-safe form of a state (Decimals as strings)."""

    def load(self, data: Any) -> Any:
        """The inverse of :meth:`dump`."""


@dataclass(frozen=True, slots=True)
class Sum:
    """The exact sum of a numeric attribute over a group's current items (an abelian group).

    Args:
        attribute: attribute name, or a function of the image returning the number. Absent
            values contribute nothing; a non-number raises :class:`~ddbstream.AggregationError`.

    Example:
        >>> from decimal import Decimal
        >>> Sum("Amount").lift({"Amount": Decimal("12.50")})
        Decimal('12.50')
    """

    attribute: Accessor
    algebra: Algebra = "group"

    def __repr__(self) -> str:
        return f"Sum({_accessor_repr(self.attribute)})"

    def lift(self, image: Any) -> Decimal | None:
        return _number(image, self.attribute, "Sum")

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
        """DynamoDB attributes holding the state (added with ``ADD``)."""
        return (name,)

    def split(self, state: Decimal) -> tuple[Decimal, ...]:
        return (state,)

    def join(self, parts: tuple[Decimal, ...]) -> Decimal:
        return parts[0]


@dataclass(frozen=True, slots=True)
class Count:
    """The number of items in a group (those passing ``where``; with ``attribute``, those
    where it is present).

    Example:
        >>> Count().lift({"Amount": 1})
        Decimal('1')
    """

    attribute: Accessor | None = None
    algebra: Algebra = "group"

    def __repr__(self) -> str:
        return "Count()" if self.attribute is None else f"Count({_accessor_repr(self.attribute)})"

    def lift(self, image: Any) -> Decimal | None:
        if self.attribute is not None and read_attribute(image, self.attribute) is None:
            return None
        return Decimal(1)

    zero = Sum.zero
    combine = Sum.combine
    inverse = Sum.inverse
    result = Sum.result
    dump = Sum.dump
    load = Sum.load
    columns = Sum.columns
    split = Sum.split
    join = Sum.join


@dataclass(frozen=True, slots=True)
class Average:
    """The mean of a numeric attribute, kept as ``(sum, count)`` (an abelian group).

    DynamoDB stores the two parts as ``<name>Sum`` and ``<name>Count``; ``result`` divides.

    Example:
        >>> from decimal import Decimal
        >>> avg = Average("Score")
        >>> avg.result(avg.combine(avg.lift({"Score": 3}), avg.lift({"Score": 4})))
        Decimal('3.5')
    """

    attribute: Accessor
    algebra: Algebra = "group"

    def __repr__(self) -> str:
        return f"Average({_accessor_repr(self.attribute)})"

    def lift(self, image: Any) -> tuple[Decimal, Decimal] | None:
        value = _number(image, self.attribute, "Average")
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


@dataclass(frozen=True, slots=True)
class _Extreme:
    attribute: Accessor
    algebra: Algebra = "monoid"

    def lift(self, image: Any) -> Decimal | None:
        return _number(image, self.attribute, type(self).__name__)

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

    def inverse(self, state: Any) -> Any:
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

    def __repr__(self) -> str:
        return f"Min({_accessor_repr(self.attribute)})"

    def _pick(self, left: Decimal, right: Decimal) -> Decimal:
        return min(left, right)


@dataclass(frozen=True, slots=True, repr=False)
class Max(_Extreme):
    """The largest value of a numeric attribute, for append-only streams (a monoid).

    Example:
        >>> Max("Score").combine(Max("Score").lift({"Score": 3}), Max("Score").lift({"Score": 9}))
        Decimal('9')
    """

    def __repr__(self) -> str:
        return f"Max({_accessor_repr(self.attribute)})"

    def _pick(self, left: Decimal, right: Decimal) -> Decimal:
        return max(left, right)


@dataclass(frozen=True, slots=True)
class Latest:
    """The last value written into a group: by stream order (``by=None``) or by an attribute.

    A last-writer register (a commutative monoid: the later write wins). Deletes and moves out
    of the group are ignored (``retraction = "ignore"``): a delete does not un-write the last
    value. Ties on ``by`` are broken by sequence number.

    Example:
        >>> latest = Latest("Status")
        >>> a = latest.lift_at({"Status": "open"}, 1)
        >>> b = latest.lift_at({"Status": "paid"}, 2)
        >>> latest.result(latest.combine(b, a))
        'paid'
    """

    attribute: Accessor
    by: Accessor | None = None
    algebra: Algebra = "monoid"
    retraction: Literal["ignore"] = "ignore"
    needs_sequence: bool = True

    def __repr__(self) -> str:
        by = "" if self.by is None else f", by={_accessor_repr(self.by)}"
        return f"Latest({_accessor_repr(self.attribute)}{by})"

    def lift(self, image: Any) -> Any:
        raise AggregationError("Latest needs the record's sequence number: use lift_at")

    def lift_at(self, image: Any, sequence: int) -> tuple[Any, int, Any] | None:
        value = read_attribute(image, self.attribute)
        order = sequence if self.by is None else read_attribute(image, self.by)
        if order is None:
            return None
        return (order, sequence, value)

    def zero(self) -> tuple[Any, int, Any] | None:
        return None

    def combine(self, left: Any, right: Any) -> Any:
        if left is None:
            return right
        if right is None:
            return left
        return left if (left[0], left[1]) >= (right[0], right[1]) else right

    def inverse(self, state: Any) -> Any:
        raise AggregationError(f"{self!r} is a register: it has no inverse")

    def result(self, state: Any) -> Any:
        return None if state is None else state[2]

    def dump(self, state: Any) -> Any:
        from .._codec import serialize

        if state is None:
            return None
        return [serialize(state[0]), str(state[1]), serialize(state[2])]

    def load(self, data: Any) -> Any:
        from .._codec import deserialize

        if data is None:
            return None
        return (deserialize(data[0]), int(data[1]), deserialize(data[2]))
