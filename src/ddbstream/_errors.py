"""The one exception tree of ddbstream.

Everything ddbstream raises on purpose derives from :class:`DDBStreamError`, and each subclass
also inherits the builtin it resembles, so ``except ValueError`` keeps working for callers that
do not know ddbstream::

    DDBStreamError(Exception)
    ├── DataError(DDBStreamError, ValueError)            one bad value of one record
    │   ├── DecodeError                                   bad AttributeValue / record / envelope
    │   ├── EncodeError                                   a Python value DynamoDB cannot store
    │   ├── ImageValidationError                          image does not fit the model
    │   ├── MissingImageError                             a record lacks the image asked for
    │   ├── InvalidPattern                                filter pattern AWS would reject
    │   ├── AggregationError                              a total that cannot be kept exactly
    │   └── ProjectionError                               a change that cannot be projected
    ├── FilterNotExpressible(DDBStreamError, ValueError) DSL expression Lambda cannot evaluate
    ├── LimitExceeded(DDBStreamError, ValueError)        an AWS limit (filters, pattern, state)
    ├── TransientError(DDBStreamError, RuntimeError)     a write that may succeed when retried
│   └── EffectInProgress                              another attempt holds a once-per-key claim
    └── UsageError(DDBStreamError, RuntimeError)         misuse of the API or of an environment

Data errors carry ``event_id``, ``sequence_number`` and ``path`` (a tuple, like pydantic's
``loc``) and render their message from those fields, so a log line always names the record and
the value that was wrong. Catch :class:`DataError` to handle every one of them, or a leaf to
handle one direction (decoding versus encoding).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing_extensions costs a cold start ~15 ms; annotations are strings here
    from typing_extensions import Self

__all__ = [
    "AggregationError",
    "DDBStreamError",
    "DataError",
    "DecodeError",
    "EffectInProgress",
    "EncodeError",
    "FilterNotExpressible",
    "ImageValidationError",
    "InvalidPattern",
    "LimitExceeded",
    "MissingImageError",
    "ProjectionError",
    "TransientError",
    "UsageError",
    "format_path",
]

PathItem = str | int


def format_path(path: Iterable[PathItem]) -> str:
    """Render ``("NewImage", "items", 3, "qty")`` as ``NewImage.items[3].qty``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif out:
            out.append(f".{part}")
        else:
            out.append(part)
    return "".join(out)


class DDBStreamError(Exception):
    """Base class of every error ddbstream raises."""


class DataError(DDBStreamError, ValueError):
    """An error about one value of one record; renders its message from its fields.

    Attributes:
        reason: what is wrong, without the location.
        path: where inside the record (``("NewImage", "items", 3)``), like pydantic's ``loc``.
        event_id: the record's ``eventID``, when known.
        sequence_number: the record's ``SequenceNumber``, when known.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: tuple[PathItem, ...] = (),
        event_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        self.reason = reason
        self.path = path
        self.event_id = event_id
        self.sequence_number = sequence_number
        super().__init__(reason)

    def in_record(
        self,
        *,
        event_id: str | None,
        sequence_number: str | None,
        prefix: tuple[PathItem, ...] = (),
    ) -> Self:
        """Return a copy of this error located inside a record (and under ``prefix``).

        Fields already set win, so an error keeps the record it was first located in. Subclasses
        with fields of their own keep them (the copy is shallow).
        """
        located = copy.copy(self)
        located.path = prefix + self.path
        if located.event_id is None:
            located.event_id = event_id
        if located.sequence_number is None:
            located.sequence_number = sequence_number
        located.args = (self.reason,)
        return located

    def __str__(self) -> str:
        where = []
        if self.event_id is not None:
            where.append(f"eventID={self.event_id}")
        if self.sequence_number is not None:
            where.append(f"SequenceNumber={self.sequence_number}")
        if self.path:
            where.append(f"at {format_path(self.path)}")
        return f"{self.reason} ({', '.join(where)})" if where else self.reason

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.reason, vars(self)))


def _rebuild(cls: type[DataError], reason: str, fields: dict[str, object]) -> DataError:
    error = cls.__new__(cls)
    DataError.__init__(error, reason)
    vars(error).update(fields)
    return error


class DecodeError(DataError):
    """A DynamoDB AttributeValue, stream record or event envelope that breaks DynamoDB's rules.

    Example:
        >>> from ddbstream import deserialize, DecodeError
        >>> try:
        ...     deserialize({"N": "abc"})
        ... except DecodeError as exc:
        ...     print(exc.reason)
        N value 'abc' is not a number
    """


class EncodeError(DataError):
    """A Python value that cannot be written as a DynamoDB AttributeValue (a float, an empty
    set, a number beyond 38 digits...).

    Example:
        >>> from ddbstream import serialize, EncodeError
        >>> try:
        ...     serialize(1.5)
        ... except EncodeError as exc:
        ...     print(type(exc).__name__)
        EncodeError
    """


class ImageValidationError(DataError):
    """A decoded image that does not validate against the user's model (pydantic, dataclass,
    TypedDict). ``__cause__`` holds the pydantic error."""


class MissingImageError(DataError):
    """A record lacks the image a handler asked for: ``require_new()`` on a REMOVE, or on any
    record of a ``KEYS_ONLY`` or ``OLD_IMAGE`` stream. Retrying never helps, so a router's
    dead-letter callback may take the record.

    Example:
        >>> from ddbstream import MissingImageError, StreamEvent
        >>> from ddbstream.testing import lambda_event, remove
        >>> record = StreamEvent.from_lambda(lambda_event(remove({"pk": "a"}))).records[0]
        >>> try:
        ...     record.require_new()
        ... except MissingImageError as exc:
        ...     print(exc.reason)
        a REMOVE record has no NewImage
    """


class InvalidPattern(DataError):
    """A filter pattern that AWS rejects ("Invalid filter pattern definition.").

    ``path`` is the location inside the pattern; ``event_id`` and ``sequence_number`` are unused.
    """


class FilterNotExpressible(DDBStreamError, ValueError):
    """A filter expression that Lambda FilterCriteria cannot express (for example the AND of two
    prefixes on one field, or a local-only predicate such as "attribute changed")."""


class LimitExceeded(DDBStreamError, ValueError):
    """An AWS limit would be exceeded: filters per mapping, pattern length, tumbling-window state
    size, batch size and the like."""


class AggregationError(DataError):
    """An aggregate that cannot be kept exactly: a missing image for the stream view type, a
    result beyond DynamoDB's 38 digits, a MODIFY on an append-only min/max."""


class ProjectionError(DataError):
    """A change that cannot be projected: the projection function failed or returned an item
    without the target's key, a record lacks the image the projection needs, or the target
    refused the item (too large, a value it cannot hold)."""


class UsageError(DDBStreamError, RuntimeError):
    """The API or the environment is used in a way that cannot work (missing java, wrong
    argument combination, a route registered twice...)."""


class TransientError(DDBStreamError, RuntimeError):
    """A write that may succeed when retried: throttling, a transaction conflict, an internal
    server error, or a lost response (the write may have landed). The aggregation engine retries
    it with jittered exponential backoff; raise it from a fault hook to simulate one."""


class EffectInProgress(TransientError):
    """Another attempt holds the claim of a once-per-key effect (:class:`ddbstream.once.Once`)
    and its lease has not expired: the record fails, and Lambda delivers it again later, by
    which time that attempt has completed (the effect is then skipped) or its lease has run
    out (the effect is claimed again)."""
