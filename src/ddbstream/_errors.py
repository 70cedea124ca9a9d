"""The one exception tree of ddbstream.

Everything ddbstream raises on purpose derives from :class:`DDBStreamError`, and each subclass
also inherits the builtin it resembles, so ``except ValueError`` keeps working for callers that
do not know ddbstream::

    DDBStreamError(Exception)
    ├── DecodeError(DDBStreamError, ValueError)          bad AttributeValue / record / envelope
    ├── ImageValidationError(DDBStreamError, ValueError) image does not fit the model
    ├── InvalidPattern(DDBStreamError, ValueError)       filter pattern AWS would reject
    ├── FilterNotExpressible(DDBStreamError, ValueError) DSL expression Lambda cannot evaluate
    ├── LimitExceeded(DDBStreamError, ValueError)        an AWS limit (filters, pattern, state)
    ├── AggregationError(DDBStreamError, ValueError)     a total that cannot be kept exactly
    ├── TransientError(DDBStreamError, RuntimeError)     a write that may succeed when retried
    └── UsageError(DDBStreamError, RuntimeError)         misuse of the API or of an environment

Data errors carry ``event_id``, ``sequence_number`` and ``path`` (a tuple, like pydantic's
``loc``) and render their message from those fields, so a log line always names the record and
the value that was wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "AggregationError",
    "DDBStreamError",
    "DecodeError",
    "FilterNotExpressible",
    "ImageValidationError",
    "InvalidPattern",
    "LimitExceeded",
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


class _DataError(DDBStreamError):
    """An error about one value of one record; renders its message from its fields."""

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
    ) -> _DataError:
        """Return the same error located inside a record (and under ``prefix``)."""
        return type(self)(
            self.reason,
            path=prefix + self.path,
            event_id=self.event_id if self.event_id is not None else event_id,
            sequence_number=(
                self.sequence_number if self.sequence_number is not None else sequence_number
            ),
        )

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
        return (
            _rebuild,
            (type(self), self.reason, self.path, self.event_id, self.sequence_number),
        )


def _rebuild(
    cls: type[_DataError],
    reason: str,
    path: tuple[PathItem, ...],
    event_id: str | None,
    sequence_number: str | None,
) -> _DataError:
    return cls(reason, path=path, event_id=event_id, sequence_number=sequence_number)


class DecodeError(_DataError, ValueError):
    """A DynamoDB AttributeValue, stream record or event envelope that breaks DynamoDB's rules.

    Example:
        >>> from ddbstream import deserialize, DecodeError
        >>> try:
        ...     deserialize({"N": "abc"})
        ... except DecodeError as exc:
        ...     print(exc.reason)
        N value 'abc' is not a number
    """


class ImageValidationError(_DataError, ValueError):
    """A decoded image that does not validate against the user's model (pydantic, dataclass,
    TypedDict). ``__cause__`` holds the pydantic error."""


class InvalidPattern(_DataError, ValueError):
    """A filter pattern that AWS rejects ("Invalid filter pattern definition.").

    ``path`` is the location inside the pattern; ``event_id`` and ``sequence_number`` are unused.
    """


class FilterNotExpressible(DDBStreamError, ValueError):
    """A filter expression that Lambda FilterCriteria cannot express (for example the AND of two
    prefixes on one field, or a local-only predicate such as "attribute changed")."""


class LimitExceeded(DDBStreamError, ValueError):
    """An AWS limit would be exceeded: filters per mapping, pattern length, tumbling-window state
    size, batch size and the like."""


class AggregationError(_DataError, ValueError):
    """An aggregate that cannot be kept exactly: a missing image for the stream view type, a
    result beyond DynamoDB's 38 digits, a MODIFY on an append-only min/max."""


class UsageError(DDBStreamError, RuntimeError):
    """The API or the environment is used in a way that cannot work (missing java, wrong
    argument combination, a route registered twice...)."""


class TransientError(DDBStreamError, RuntimeError):
    """A write that may succeed when retried: throttling, a transaction conflict, an internal
    server error, or a lost response (the write may have landed). The aggregation engine retries
    it with jittered exponential backoff; raise it from a fault hook to simulate one."""
