"""Measures: what an aggregator computes per group, and the algebra each one needs.

A measure turns one item image into a *contribution* (``lift``) and folds contributions with
``combine`` starting from ``zero``. What a measure can do under changes depends on its algebra:

* ``"group"`` (an abelian group: ``zero``, ``combine``, ``inverse``): a MODIFY or REMOVE
  retracts the old contribution exactly, so totals follow inserts, updates and deletes.
  :class:`Sum`, :class:`Count` and :class:`Average` are groups over exact ``Decimal``.
* ``"monoid"`` (a commutative monoid, append-only): there is no inverse, so a retraction is an
  :class:`~ddbstream.AggregationError` unless the new contribution absorbs the old one
  (``combine(old, new) == new``: a Max that grows in place). :class:`Min` and :class:`Max`.
* ``"register"`` (a last-writer register): retractions are ignored, because a delete does not
  un-write the last value written. :class:`Latest`.

A measure of an attribute the image lacks is an error for that record, naming the attribute and
the attributes the image has, unless the measure says otherwise (``default=`` or
``optional=True``). Arithmetic is exact: a result DynamoDB cannot store (more than 38 significant
digits, or out of its range, the rule :func:`ddbstream.serialize` enforces) raises instead of
rounding.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from typing_extensions import TypeVar

from .._codec import EncodeError, serialize
from .._errors import AggregationError

__all__ = [
    "ABSENT",
    "DYNAMODB_CONTEXT",
    "Accessor",
    "Additive",
    "Algebra",
    "Measure",
    "OfAttribute",
    "Sequenced",
    "accessor_repr",
    "exact",
    "number",
    "options",
    "read_attribute",
    "required",
]

Algebra = Literal["group", "monoid", "register"]

In = TypeVar("In", contravariant=True, default=Any)
S = TypeVar("S", default=Any)
S_co = TypeVar("S_co", covariant=True, default=Any)

#: How a measure reads its value: an attribute name, or a function of the image (or model).
Accessor = str | Callable[[Any], object]

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
# then checked against DynamoDB's rules, which live in the codec.
_EXACT = decimal.Context(
    prec=400,
    Emin=-999_999,
    Emax=999_999,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)
ABSENT: Any = object()
_SHOWN_NAMES = 12


def exact(operation: Callable[[], Decimal], what: str) -> Decimal:
    """Run ``operation`` exactly; a result DynamoDB cannot store raises instead of rounding.

    Raises:
        AggregationError: the exact result has more than 38 significant digits or is out of
            DynamoDB's range (1E-130 to 9.99E+125 in magnitude).

    Example:
        >>> from decimal import Decimal
        >>> exact(lambda: Decimal("0.1") + Decimal("0.2"), "a sum")
        Decimal('0.3')
    """
    with decimal.localcontext(_EXACT):
        try:
            result = +operation()
        except decimal.DecimalException as exc:
            raise AggregationError(
                f"{what} is not an exact decimal: {type(exc).__name__}"
            ) from None
    if not result:
        return Decimal(0)  # a zero's exponent carries nothing and must not grow without bound
    try:
        serialize(result)
    except EncodeError as exc:
        raise AggregationError(
            f"{what} = {result:.6E} cannot be stored exactly ({exc.reason}); totals are never "
            "rounded"
        ) from None
    return result


def _names(image: object) -> str:
    if isinstance(image, Mapping):
        names = sorted(str(k) for k in image)
    else:
        fields = getattr(type(image), "model_fields", None) or getattr(image, "__dict__", {})
        names = sorted(str(k) for k in fields)
    shown = ", ".join(names[:_SHOWN_NAMES])
    more = len(names) - _SHOWN_NAMES
    return (shown + (f", ... ({more} more)" if more > 0 else "")) or "none"


def read_attribute(image: object, accessor: Accessor) -> object:
    """Read one value from an image (a Mapping or a model instance).

    Returns ``None`` when the attribute is absent or NULL.

    Example:
        >>> read_attribute({"Amount": 3}, "Amount"), read_attribute({}, "Amount")
        (3, None)
    """
    value = _read(image, accessor)
    return None if value is ABSENT else value


def _read(image: object, accessor: Accessor) -> object:
    if callable(accessor):
        return accessor(image)
    if isinstance(image, Mapping):
        value = image.get(accessor, ABSENT)
    else:
        value = getattr(image, accessor, ABSENT)
    return ABSENT if value is None else value


def accessor_repr(accessor: Accessor) -> str:
    """How a measure's repr shows its accessor."""
    return repr(accessor) if isinstance(accessor, str) else getattr(accessor, "__name__", "<fn>")


def required(
    image: object, accessor: Accessor, measure: str, *, default: object, optional: bool
) -> object:
    """The measured value; :data:`ABSENT` when an absent value contributes nothing.

    Raises:
        AggregationError: the attribute is absent (or NULL), without ``default`` or
            ``optional``; the message names it and the attributes the image has.
    """
    value = _read(image, accessor)
    if value is not ABSENT:
        return value
    if default is not None:
        return default
    if optional:
        return ABSENT
    what = repr(accessor) if isinstance(accessor, str) else f"{accessor_repr(accessor)}()"
    raise AggregationError(
        f"{measure} reads {what}, which this image lacks (it has: {_names(image)}); pass "
        "default=... or optional=True if the attribute may be absent",
        path=(accessor,) if isinstance(accessor, str) else (),
    )


def number(
    image: object, accessor: Accessor, measure: str, *, default: object, optional: bool
) -> Decimal | None:
    """The measured number, exact; None when an absent value contributes nothing.

    Raises:
        AggregationError: absent (see :func:`required`), not a number, or not storable.
    """
    value = required(image, accessor, measure, default=default, optional=optional)
    if value is ABSENT:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise AggregationError(
            f"{measure} needs a number, got {type(value).__name__} {str(value)[:60]!r}",
            path=(accessor,) if isinstance(accessor, str) else (),
        )
    number = value
    return exact(lambda: Decimal(number), f"{measure} input")


def options(default: object, optional: bool) -> str:
    """The ``, default=..., optional=True`` part of a measure's repr."""
    parts = []
    if default is not None:
        parts.append(f", default={default!r}")
    if optional:
        parts.append(", optional=True")
    return "".join(parts)


@runtime_checkable
class Measure(Protocol[In, S]):
    """What a measure implements (structural: there is no base class to inherit).

    ``In`` is what ``lift`` reads (an :class:`~ddbstream.Image`, or the aggregator's model) and
    ``S`` the state. ``algebra`` states what the measure needs: ``"group"`` for an abelian group
    (``inverse`` exists, deltas of updates and deletes are exact), ``"monoid"`` for a
    commutative monoid (append-only: a retraction raises unless the new value absorbs the old)
    or ``"register"`` (retractions are ignored). ``combine`` must be associative and
    commutative: records are coalesced in any order. ``dump``/``load`` give a JSON-safe state
    (tumbling windows keep states in Lambda's window state).

    Two optional capabilities have Protocols of their own: :class:`Additive` (kept with
    DynamoDB's ``ADD``) and :class:`Sequenced` (the contribution depends on the record's place
    in the stream).
    """

    @property
    def algebra(self) -> Algebra: ...

    def lift(self, image: In) -> S | None:
        """The contribution of one image, or None when it contributes nothing."""

    def zero(self) -> S: ...

    def combine(self, left: S, right: S) -> S: ...

    def inverse(self, state: S) -> S:
        """The inverse of a state (only called when ``algebra == "group"``)."""

    def result(self, state: S) -> object:
        """The user-facing value of a state (e.g. an average from ``(sum, count)``)."""

    def dump(self, state: S) -> object:
        """A JSON-safe form of a state (Decimals as strings)."""

    def load(self, data: Any) -> S:
        """The inverse of :meth:`dump`."""


@runtime_checkable
class Additive(Protocol[S]):
    """A measure whose state is a tuple of Decimals combined by addition, so that a sink keeps
    it with ``ADD`` and no read (``Sum``, ``Count``, ``Average``)."""

    def columns(self, name: str) -> tuple[str, ...]:
        """The stored attributes of the measure called ``name``."""

    def split(self, state: S) -> tuple[Decimal, ...]:
        """The state as one Decimal per column."""

    def join(self, parts: tuple[Decimal, ...]) -> S:
        """The inverse of :meth:`split`."""


@runtime_checkable
class Sequenced(Protocol[In, S_co]):
    """A measure whose contribution depends on the record's SequenceNumber (:class:`Latest`)."""

    def lift_at(self, image: In, sequence: int) -> S_co | None:
        """Like :meth:`Measure.lift`, knowing the record's place in the stream."""


@dataclass(frozen=True, slots=True)
class OfAttribute:
    """The fields of a measure of one numeric attribute: what it reads, and what an absent
    value means (``default`` stands in for it; ``optional`` makes it contribute nothing)."""

    attribute: Accessor
    default: int | Decimal | None = None
    optional: bool = False

    def __repr__(self) -> str:
        extra = options(self.default, self.optional)
        return f"{type(self).__name__}({accessor_repr(self.attribute)}{extra})"

    def number(self, image: object) -> Decimal | None:
        """The measured number (see :func:`number`)."""
        return number(
            image, self.attribute, type(self).__name__, default=self.default, optional=self.optional
        )
