"""The names several modules share, each named once: envelopes, event names, stream view types,
what a condition is, what a Lambda context offers, and the shape of a partial batch response.

This module sits below every other one but the error tree (``_errors``) and how values are shown
(``_reprs``), so the codec, records, routing, filters, aggregation and the runner can all use
these names.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

from typing_extensions import NotRequired

from ._errors import UsageError
from ._reprs import short_repr

if TYPE_CHECKING:
    from ._records import StreamRecord

__all__ = [
    "BatchItemFailure",
    "BatchResponse",
    "Condition",
    "Envelope",
    "EventName",
    "LambdaContext",
    "RecordPredicate",
    "StreamViewType",
    "predicate_of",
]

Envelope = Literal["lambda", "kinesis", "pipes"]
"""Which delivery a record came in: a Lambda DynamoDB stream event, Kinesis Data Streams for
DynamoDB, or an EventBridge Pipes batch."""


class EventName(str, enum.Enum):
    """The kind of change a stream record describes.

    Example:
        >>> from ddbstream import EventName
        >>> EventName("MODIFY") is EventName.MODIFY, str(EventName.MODIFY)
        (True, 'MODIFY')
    """

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"

    def __str__(self) -> str:
        return self.value


class StreamViewType(str, enum.Enum):
    """What a stream writes for each change (the table's ``StreamSpecification``).

    Example:
        >>> from ddbstream import StreamViewType
        >>> [str(view) for view in StreamViewType]
        ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES']
    """

    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"

    def __str__(self) -> str:
        return self.value


class Condition(Protocol):
    """What a route, a tumbling window or an aggregator's ``where`` accepts as a condition: an
    object that says whether a record matches. Filter expressions (``event_name == "INSERT"``),
    local predicates (``changed("status")``), ``Filter`` and ``FilterCriteria`` are conditions;
    so is any object with a ``matches(record) -> bool`` method. A plain ``(record) -> bool``
    function is accepted too (:data:`RecordPredicate`).

    Example:
        >>> from ddbstream import Condition
        >>> from ddbstream.filters import event_name
        >>> condition: Condition = event_name == "INSERT"
    """

    @property
    def matches(self) -> Callable[[StreamRecord[Any]], bool]:
        """A function that is true when a record satisfies the condition: a method
        ``matches(self, record) -> bool`` fits, and so does a property returning such a function
        (as filter expressions do, so a loop can fetch it once)."""
        ...


RecordPredicate = Callable[["StreamRecord[Any]"], bool]
"""A function of a record that says whether it matches: the callable form of a condition."""


class LambdaContext(Protocol):
    """The members of Lambda's ``context`` object that ddbstream reads: the function name (a
    metrics dimension) and the time left before the deadline. AWS's own context object,
    Powertools' ``LambdaContext``, :class:`ddbstream.runner.LambdaContext` and
    :class:`ddbstream.testing.FakeLambdaContext` all provide them.

    Example:
        >>> from ddbstream import LambdaContext
        >>> from ddbstream.testing import FakeLambdaContext
        >>> context: LambdaContext = FakeLambdaContext(remaining_ms=500)
        >>> context.get_remaining_time_in_millis()
        500
    """

    @property
    def function_name(self) -> str:
        """The Lambda function's name."""
        ...

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops the invocation."""
        ...


class BatchItemFailure(TypedDict):
    """One entry of ``batchItemFailures``: the record Lambda must retry from."""

    itemIdentifier: str


class BatchResponse(TypedDict):
    """A Lambda partial batch response; ``state`` only for tumbling-window invocations."""

    batchItemFailures: list[BatchItemFailure]
    state: NotRequired[dict[str, Any]]


def predicate_of(condition: Condition | RecordPredicate | None) -> RecordPredicate | None:
    """The function that tests a record against ``condition`` (None: every record matches).

    Raises:
        UsageError: ``condition`` has no ``matches`` method and is not callable.
    """
    if condition is None:
        return None
    matches = getattr(condition, "matches", None)
    if callable(matches):
        test: RecordPredicate = matches
        return test
    if callable(condition):
        return condition
    raise UsageError(
        "a condition must have a .matches(record) method or be a (record) -> bool callable, "
        f"got {type(condition).__name__} {short_repr(condition)}"
    )
