"""The aggregator: a spec (what to count) bound to a sink (where it lives) and a delivery.

:class:`Aggregator` is the one object a handler needs: ``aggregator.handle(event, context)``
returns the partial batch response, ``aggregator.apply(...)`` the :class:`AggregateResult`, and
``aggregator.snapshot()`` the totals. The algebra is the frozen :class:`AggregateSpec` below it
(``aggregator.spec``); the engine, the exactly-once core and the sinks take the spec as an
argument and never the aggregator.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, overload

from typing_extensions import TypeVar

from .._apply import AggregateResult, function_name, report
from .._errors import UsageError
from .._event import StreamEvent
from .._image import Image
from .._observe import MetricsSink, resolve_metrics
from .._records import StreamRecord
from .._settle import Deadline
from .._types import BatchResponse, LambdaContext
from ._engine import run
from ._measures import Measure
from ._sink import Sink
from ._spec import AggregateSpec, Deltas, GroupBy, Where
from ._window import handle_window

if TYPE_CHECKING:
    from ..filters import FilterCriteria

__all__ = ["Aggregator"]

T = TypeVar("T", default=Image)
M = TypeVar("M")

log = logging.getLogger("ddbstream.aggregate")

#: Time kept in reserve before Lambda's deadline, in milliseconds (as the Router's).
DEFAULT_DEADLINE_MARGIN_MS = 1000

# (sink name, stored attribute) -> fingerprint of the measures of the aggregator writing it.
_CLAIMS: dict[tuple[str, str], str] = {}
_CLAIMS_LOCK = threading.Lock()


def _claim(sink: Sink, spec: AggregateSpec[Any]) -> None:
    """Refuse a second aggregator in this process that writes one of this one's attributes in
    the same table with different measures (they would both add to it)."""
    name = sink.name
    if name is None:
        return
    mine = spec.fingerprint()
    with _CLAIMS_LOCK:
        columns = [c for cs in spec.columns().values() for c in cs]
        for column in columns:
            theirs = _CLAIMS.get((name, column))
            if theirs is not None and theirs != mine:
                raise UsageError(
                    f"another aggregator already writes {column!r} in {name!r} with different "
                    "measures; each stored attribute must have one definition: rename the "
                    "measure or use another table"
                )
        for column in columns:
            _CLAIMS[(name, column)] = mine


def _needed_kinds(spec: AggregateSpec[Any]) -> dict[str, list[str]]:
    needs: dict[str, list[str]] = {}
    for name, measure in spec.measures.items():
        kinds = (
            ["INSERT", "MODIFY", "REMOVE"] if measure.algebra == "group" else ["INSERT", "MODIFY"]
        )
        for kind in kinds:
            needs.setdefault(kind, []).append(f"{name}={measure!r}")
    return needs


def _criteria(filter: FilterCriteria | Mapping[str, Any]) -> FilterCriteria:
    from ..filters import FilterCriteria

    if isinstance(filter, FilterCriteria):
        return filter
    if isinstance(filter, Mapping):
        return FilterCriteria.from_dict(filter)
    raise UsageError(
        f"filter must be the mapping's FilterCriteria (a FilterCriteria or its "
        f'{{"Filters": [...]}} dict), got {type(filter).__name__}'
    )


def _warn_about(criteria: FilterCriteria, spec: AggregateSpec[Any]) -> None:
    let_through = criteria.event_names()
    for kind, measures in sorted(_needed_kinds(spec).items()):
        if kind not in let_through:
            log.warning(
                "the event source mapping's FilterCriteria drops every %s record, which %s "
                "need to stay exact (an update adds only its difference, a delete subtracts); "
                "let %s records through and use where= to choose what counts",
                kind,
                ", ".join(measures),
                kind,
            )


class Aggregator(Generic[T]):
    """Exact per-group aggregates of a DynamoDB table, kept from its stream.

    Args:
        group_by: an attribute name, or a function of the image (or of the ``model`` instance)
            returning the group (a non-empty string, a number, bytes, or a tuple of those;
            ``None`` means "in no group"). A MODIFY may move an item between groups.
        measures: stored attribute name -> measure (:class:`Sum`, :class:`Count`,
            :class:`Average`, :class:`Min`, :class:`Max`, :class:`Latest` or your own
            :class:`Measure`).
        where: which images count: a predicate on the image (or model), or a filters-DSL
            expression (an item counts when a record inserting it would match). An image that
            enters or leaves ``where`` counts as an insertion or a removal.
        model: bind images to this model (pydantic, dataclass, TypedDict) before ``group_by``,
            ``where`` and the measures see them.
        sink: where aggregates live (:class:`MemorySink`, :class:`DynamoDBSink`); needed by
            :meth:`handle`, :meth:`apply` and :meth:`snapshot`.
        parallelization_factor: the event source mapping's ``ParallelizationFactor`` (1 to 10,
            AWS's default 1). Every strategy ddbstream ships is exact at every value (see
            "Strategies" in the docs for why none can do better at 1); it is checked and kept so
            that the declaration sits beside the code that relies on it.
        filter: the mapping's ``FilterCriteria``; a WARNING is logged at construction when it
            drops record kinds the measures need (e.g. MODIFY and REMOVE for a Sum).
        metrics: ``True``/``"emf"`` for CloudWatch EMF lines, a Powertools ``Metrics``, a
            :class:`ddbstream.MetricsSink`, ``False``; default: the ``DDBSTREAM_METRICS``
            environment variable.
        deadline_margin_ms: stop writing when the Lambda context has less time left than this;
            what is not written is reported and delivered again.

    Example:
        >>> from ddbstream.aggregate import Aggregator, MemorySink, Sum
        >>> from ddbstream.testing import insert, lambda_event, modify
        >>> totals = Aggregator(group_by="InvoiceNumber", measures={"Total": Sum("Amount")},
        ...                     sink=MemorySink())
        >>> old = {"InvoiceNumber": "ABC", "TransactionId": "1", "Amount": 100}
        >>> event = lambda_event(insert(old), modify(old, {**old, "Amount": 150}))
        >>> totals.handle(event, None), totals.snapshot()
        ({'batchItemFailures': []}, {'ABC': {'Total': Decimal('150')}})
    """

    __slots__ = ("_metrics", "_namespace", "deadline_margin_ms", "filter",
                 "parallelization_factor", "sink", "spec")  # fmt: skip

    spec: AggregateSpec[T]
    sink: Sink | None
    parallelization_factor: int
    filter: FilterCriteria | None
    deadline_margin_ms: int

    @overload
    def __init__(
        self: Aggregator[Image],
        group_by: GroupBy[Image],
        measures: Mapping[str, Measure[Image, Any]],
        *,
        where: Where[Image] | None = None,
        model: None = None,
        sink: Sink | None = None,
        parallelization_factor: int = 1,
        filter: FilterCriteria | Mapping[str, Any] | None = None,
        metrics: bool | str | MetricsSink | Any | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
    ) -> None: ...
    @overload
    def __init__(
        self: Aggregator[M],
        group_by: GroupBy[M],
        measures: Mapping[str, Measure[M, Any]],
        *,
        model: type[M],
        where: Where[M] | None = None,
        sink: Sink | None = None,
        parallelization_factor: int = 1,
        filter: FilterCriteria | Mapping[str, Any] | None = None,
        metrics: bool | str | MetricsSink | Any | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
    ) -> None: ...
    def __init__(
        self,
        group_by: GroupBy[Any],
        measures: Mapping[str, Measure[Any, Any]],
        *,
        where: Where[Any] | None = None,
        model: type[Any] | None = None,
        sink: Sink | None = None,
        parallelization_factor: int = 1,
        filter: FilterCriteria | Mapping[str, Any] | None = None,
        metrics: bool | str | MetricsSink | Any | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
    ) -> None:
        pf = parallelization_factor
        if isinstance(pf, bool) or not isinstance(pf, int) or not 1 <= pf <= 10:
            raise UsageError(f"parallelization_factor={pf!r} must be an int from 1 to 10")
        margin = deadline_margin_ms
        if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
            raise UsageError(f"deadline_margin_ms={margin!r} must be an int >= 0")
        if sink is not None and not isinstance(sink, Sink):
            raise UsageError(f"sink must be a MemorySink, a DynamoDBSink or a Sink, got {sink!r}")
        spec: AggregateSpec[Any] = AggregateSpec(group_by, measures, where=where, model=model)
        criteria = None if filter is None else _criteria(filter)
        if sink is not None:
            _claim(sink, spec)
        self.spec = spec
        self.sink = sink
        self.parallelization_factor = pf
        self.filter = criteria
        self.deadline_margin_ms = margin
        self._metrics = resolve_metrics(metrics)
        seed = f"{sink.name if sink is not None else ''}|{spec.fingerprint()}"
        self._namespace = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        if criteria is not None:
            _warn_about(criteria, spec)

    # -- identity ---------------------------------------------------------------------------

    def _key(self) -> tuple[object, ...]:
        return (self.spec, self.sink, self.parallelization_factor)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Aggregator):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        parts = self.spec.repr_parts()
        if self.sink is not None:
            parts.append(f"sink={self.sink!r}")
        if self.parallelization_factor != 1:
            parts.append(f"parallelization_factor={self.parallelization_factor}")
        if self.deadline_margin_ms != DEFAULT_DEADLINE_MARGIN_MS:
            parts.append(f"deadline_margin_ms={self.deadline_margin_ms}")
        return f"Aggregator({', '.join(parts)})"

    @property
    def group_by(self) -> GroupBy[T]:
        return self.spec.group_by

    @property
    def measures(self) -> Mapping[str, Measure[T, Any]]:
        return self.spec.measures

    @property
    def where(self) -> Where[T] | None:
        return self.spec.where

    @property
    def model(self) -> type[T] | None:
        return self.spec.model

    # -- algebra (the spec's) ---------------------------------------------------------------

    def builder(self) -> Deltas:
        """An empty state: group -> measure name -> state."""
        return self.spec.builder()

    def folder(self, state: Deltas, record: StreamRecord[Any]) -> Deltas:
        """Fold one record's effect into ``state`` (a new dict; no de-duplication)."""
        return self.spec.folder(state, record)

    def merger(self, left: Deltas, right: Deltas) -> Deltas:
        """Merge two states (associative and commutative)."""
        return self.spec.merger(left, right)

    def deltas(self, records: Iterable[StreamRecord[Any]]) -> Deltas:
        """The coalesced effect of ``records`` (no de-duplication)."""
        return self.spec.deltas(records)

    def results(self, state: Deltas) -> dict[Hashable, dict[str, Any]]:
        """User-facing values of a state."""
        return self.spec.results(state)

    # -- running ----------------------------------------------------------------------------

    def _sink(self) -> Sink:
        if self.sink is None:
            raise UsageError(
                "this Aggregator has no sink: pass sink=MemorySink() or DynamoDBSink(...)"
            )
        return self.sink

    def _deadline(self, context: LambdaContext | None) -> Deadline:
        remaining = None if context is None else context.get_remaining_time_in_millis
        return Deadline(remaining, self.deadline_margin_ms)

    def apply(
        self, records: Sequence[StreamRecord[Any]] | Any, context: LambdaContext | None = None
    ) -> AggregateResult:
        """Aggregate one delivery (a Lambda event or a sequence of records) into the sink.

        Each failed record is logged once at WARNING on ``ddbstream.aggregate``, the batch
        once at INFO, and its numbers go to the metrics.

        Raises:
            DecodeError: the event is not a stream event, or a record has no item identifier.
            UsageError: no sink, Kinesis records into an exactly-once sink, or the sink cannot
                work (a missing table, no credentials).
        """
        if isinstance(records, (str, bytes)) or not isinstance(records, Sequence):
            records = StreamEvent.parse(records).records
        result = run(
            self.spec,
            self._sink(),
            records,
            namespace=self._namespace,
            deadline=self._deadline(context),
        )
        report(
            result,
            records,
            metrics=self._metrics,
            function=function_name(context),
            logger=log,
            component="aggregate",
        )
        return result

    def handle(self, event: Any, context: LambdaContext | None = None) -> BatchResponse:
        """A Lambda handler body: aggregate the event, return the partial batch response.

        Tumbling-window invocations (events with ``window``) fold into the window state and
        write once, on the final invoke.

        Raises:
            DecodeError: the event is not a stream event, or a record has no item identifier
                (Lambda retries the whole batch).
            UsageError: see :meth:`apply`.
            LimitExceeded: a tumbling-window state over Lambda's 1 MB.
            AggregationError: a tumbling window's final write failed (Lambda retries it).
        """
        parsed = StreamEvent.parse(event)
        if parsed.tumbling_window is not None:
            return handle_window(
                self.spec,
                self._sink(),
                parsed,
                namespace=self._namespace,
                deadline=self._deadline(context),
            )
        return self.apply(parsed.records, context).response()

    def apply_record(self, record: StreamRecord[Any]) -> None:
        """Apply one record, exactly once: a route function for :class:`~ddbstream.Router`.

        ``router.add(condition, aggregator.apply_record)`` mounts the aggregator as a route; the
        router's partial batch response then covers it. Each record is its own write (no
        coalescing): when the aggregator owns the whole batch, :meth:`handle` is cheaper.

        Raises:
            AggregationError: the record cannot be aggregated exactly (the router fails it).
            TransientError: the sink stayed unavailable through every retry.
        """
        result = run(self.spec, self._sink(), (record,), namespace=self._namespace)
        if not result.ok:
            raise result.errors[0]

    def snapshot(self) -> dict[Hashable, dict[str, Any]]:
        """Current results in the sink: group -> measure name -> value."""
        return self._sink().snapshot(self.spec)
