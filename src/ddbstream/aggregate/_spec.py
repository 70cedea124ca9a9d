"""The aggregator: a frozen, declarative spec (what to count) bound to a sink (where it lives).

The spec is pure algebra in plain sight (bytewax style): :meth:`Aggregator.builder` makes an
empty state, :meth:`Aggregator.folder` folds one record into a state, :meth:`Aggregator.merger`
merges two states. :meth:`Aggregator.handle` runs a Lambda batch through the sink's exactly-once
engine and returns the partial batch response; :meth:`Aggregator.snapshot` reads the totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .._errors import UsageError
from .._event import StreamEvent
from .._records import StreamRecord
from ._delta import Deltas, change_of, merge_deltas
from ._engine import run
from ._result import AggregateResult
from ._sink import Sink

__all__ = ["Aggregator"]


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


@dataclass(frozen=True, slots=True, eq=False)
class Aggregator:
    """Exact per-group aggregates of a DynamoDB table, kept from its stream.

    Args:
        group_by: function of an image (or of the ``model`` instance) returning the group key
            (hashable; ``None`` means "in no group"). A MODIFY may move an item between groups.
        measures: measure name -> measure (:class:`Sum`, :class:`Count`, :class:`Average`,
            :class:`Min`, :class:`Max`, :class:`Latest` or your own :class:`Measure`).
        where: which images count: a predicate on the image, or a filters-DSL expression
            (evaluated on the image as the NewImage of an INSERT). An image that enters or
            leaves ``where`` counts as an insertion or a removal.
        model: bind images to this model (pydantic, dataclass, TypedDict) before ``group_by``,
            ``where`` and the measures see them.
        sink: where aggregates live (:class:`MemorySink`, :class:`DynamoDBSink`); needed by
            :meth:`handle`, :meth:`apply` and :meth:`snapshot`.

    Example:
        >>> from ddbstream.aggregate import Aggregator, MemorySink, Sum
        >>> from ddbstream.testing import insert, lambda_event, modify
        >>> totals = Aggregator(group_by=lambda image: image["InvoiceNumber"],
        ...                     measures={"Total": Sum("Amount")}, sink=MemorySink())
        >>> old = {"InvoiceNumber": "ABC", "TransactionId": "1", "Amount": 100}
        >>> new = {**old, "Amount": 150}
        >>> event = lambda_event(insert(old), modify(old, new))
        >>> totals.handle(event, None), totals.snapshot()
        ({'batchItemFailures': []}, {'ABC': {'Total': Decimal('150')}})
    """

    group_by: Callable[[Any], Any]
    measures: Mapping[str, Any]
    where: Any = None
    model: type[Any] | None = None
    sink: Sink | None = field(default=None)

    def __post_init__(self) -> None:
        if not callable(self.group_by):
            raise UsageError(f"group_by must be a function of the image, got {self.group_by!r}")
        if not isinstance(self.measures, Mapping) or not self.measures:
            raise UsageError(f"measures must be a non-empty mapping, got {self.measures!r}")
        for name, measure in self.measures.items():
            if not isinstance(name, str) or not name:
                raise UsageError(f"measure names must be non-empty strings, got {name!r}")
            if getattr(measure, "algebra", None) not in ("group", "monoid"):
                raise UsageError(
                    f'measure {name!r} = {measure!r} must state its algebra ("group" or "monoid")'
                )
        object.__setattr__(self, "measures", MappingProxyType(dict(self.measures)))

    def _key(self) -> tuple[Any, ...]:
        return (self.group_by, tuple(self.measures.items()), self.where, self.model, self.sink)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Aggregator):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        parts = [f"group_by={_name(self.group_by)}", f"measures={dict(self.measures)!r}"]
        if self.where is not None:
            parts.append(
                f"where={self.where if hasattr(self.where, 'matches') else _name(self.where)}"
            )
        if self.model is not None:
            parts.append(f"model={self.model.__name__}")
        if self.sink is not None:
            parts.append(f"sink={self.sink!r}")
        return f"Aggregator({', '.join(parts)})"

    # -- algebra ----------------------------------------------------------------------------

    def builder(self) -> Deltas:
        """An empty state: group -> measure name -> state."""
        return {}

    def folder(self, state: Deltas, record: StreamRecord[Any]) -> Deltas:
        """Fold one record's delta into ``state`` (a new dict; no de-duplication)."""
        return merge_deltas(self, (state, change_of(self, record, 0).deltas))

    def merger(self, left: Deltas, right: Deltas) -> Deltas:
        """Merge two states (associative and commutative)."""
        return merge_deltas(self, (left, right))

    def deltas(self, records: Iterable[StreamRecord[Any]]) -> Deltas:
        """The coalesced delta of ``records``: one entry per touched group with a non-zero net."""
        return merge_deltas(self, (change_of(self, r, i).deltas for i, r in enumerate(records)))

    def results(self, state: Deltas) -> dict[Any, dict[str, Any]]:
        """User-facing values of a state (e.g. averages divided out)."""
        return {
            group: {name: self.measures[name].result(v) for name, v in values.items()}
            for group, values in state.items()
        }

    # -- running ----------------------------------------------------------------------------

    def _sink(self) -> Sink:
        if self.sink is None:
            raise UsageError(
                "this Aggregator has no sink: pass sink=MemorySink() or DynamoDBSink(...)"
            )
        return self.sink

    def apply(self, records: Sequence[StreamRecord[Any]] | Any) -> AggregateResult:
        """Aggregate one delivery (a Lambda event or a sequence of records) into the sink."""
        if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
            records = StreamEvent.parse(records).records
        return run(self, self._sink(), records)

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        """A Lambda handler body: aggregate the event, return the partial batch response.

        Tumbling-window invocations (events with ``window``) fold into the window state and
        write once on the final invoke; see :func:`~ddbstream.aggregate.handle_window`.
        """
        parsed = StreamEvent.parse(event)
        if parsed.tumbling_window is not None:
            from ._window import handle_window

            return handle_window(self, parsed)
        return run(self, self._sink(), parsed.records).response()

    def apply_record(self, record: StreamRecord[Any]) -> None:
        """Apply one record, exactly once: a route function for :class:`~ddbstream.Router`.

        ``router.add(condition, aggregator.apply_record)`` mounts the aggregator as a route; the
        router's partial batch response then covers it. Each record is its own transaction
        (no coalescing): when the aggregator owns the whole batch, :meth:`handle` is cheaper.

        Raises:
            AggregationError: the record cannot be aggregated exactly (the router fails it).
            TransientError: the sink stayed unavailable through every retry.
        """
        result = run(self, self._sink(), (record,))
        if not result.ok:
            raise result.errors[0]

    def snapshot(self) -> dict[Any, dict[str, Any]]:
        """Current results in the sink: group -> measure name -> value."""
        return self._sink().snapshot(self)
