"""The projection: a user function from source images to target items, kept in step exactly.

Each record becomes one :class:`~ddbstream.project.Change` per target item it touches: the items
the function returns for the new image are upserted, and those it returned for the old image
and no longer returns are deleted (a REMOVE deletes them all). The changes go through the
exactly-once core the aggregates use (``ddbstream._settle``): one write per target
item per batch (the item's newest change), versions compared by the sink, retries with backoff,
the Lambda deadline, and a result that says what happened to every record.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, overload

from typing_extensions import TypeVar

from .._apply import (
    check_envelopes,
    event_id_of,
    function_name,
    parts_of,
    report,
    result_of,
)
from .._codec import serialize, serialize_image
from .._errors import DataError, MissingImageError, ProjectionError, UsageError
from .._event import StreamEvent
from .._image import Image
from .._observe import MetricsSink, resolve_metrics
from .._records import StreamRecord, bind_now
from .._settle import NO_DEADLINE, Deadline, Part, Retry, Tally, settle
from .._types import BatchResponse, EventName, LambdaContext
from ._result import ProjectionResult
from ._sink import Change, KeyId, Sink, key_id
from ._writer import SinkWriter, log

__all__ = ["Projection"]

T = TypeVar("T", default=Image)
M = TypeVar("M")

#: What the projection function may return for one image.
Projected = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
ProjectFunction = Callable[[T], Projected]

DEFAULT_DEADLINE_MARGIN_MS = 1000
_DEFAULT_RETRY = Retry()
#: Lanes one write may carry: a projection write has one condition (the target's version),
#: whatever the number of source items behind it.
_ALL_LANES = 1 << 30


class Projection(Generic[T]):
    """Keep a target (a DynamoDB table, a search index, a SQL table) in step with a table.

    ``function(image)`` maps a source item's image (or its ``model`` instance) to its target
    item, a list of target items, or ``None`` (no target item). Each item includes the
    target's key attributes (``sink.key``). For each record, the items the function returns
    for the new image are written; those it returned for the old image and no longer returns
    are deleted; a REMOVE deletes them all.

    Only the newest change of a target item wins: each write carries the record's
    SequenceNumber as the item's version and lands only over an older one, and a deletion
    leaves a tombstone with that version, so duplicates, replays, crashes between writes and
    ParallelizationFactor > 1 never bring back older data. A batch costs one write per target
    item it touches (the item's newest change).

    Args:
        function: image (or model instance) -> item, list of items, or None.
        sink: the target (:class:`DynamoDBSink`, :class:`MemorySink`, or your own
            :class:`Sink`).
        model: bind images to this model (pydantic, dataclass, TypedDict) before ``function``
            sees them; the projection is then a ``Projection[model]``.
        retry: backoff for throttling, conflicts and lost answers.
        metrics: ``True``/``"emf"`` for CloudWatch EMF lines, a Powertools ``Metrics``, a
            :class:`ddbstream.MetricsSink`, ``False``; default: ``DDBSTREAM_METRICS``.
        deadline_margin_ms: stop writing when the Lambda context has less time left than this;
            what is not written is reported and delivered again.

    Example:
        >>> from ddbstream.project import MemorySink, Projection
        >>> from ddbstream.testing import insert, lambda_event, modify
        >>> sink = MemorySink(key="UserId")
        >>> search = Projection(
        ...     lambda u: {"UserId": u["UserId"], "Name": u["Name"], "Email": u["Email"]},
        ...     sink=sink,
        ... )
        >>> old = {"UserId": "u1", "Name": "Ann", "Email": "ann@example.com", "Age": 40}
        >>> event = lambda_event(insert(old), modify(old, {**old, "Name": "Ann B"}))
        >>> search.handle(event, None), sink.items()
        ({'batchItemFailures': []}, [{'UserId': 'u1', 'Name': 'Ann B', 'Email': 'ann@example.com'}])
    """

    __slots__ = ("_metrics", "_namespace", "deadline_margin_ms", "function", "model", "retry",
                 "sink")  # fmt: skip

    function: ProjectFunction[T]
    sink: Sink
    model: type[T] | None
    retry: Retry
    deadline_margin_ms: int

    @overload
    def __init__(
        self: Projection[Image],
        function: ProjectFunction[Image],
        *,
        sink: Sink,
        model: None = None,
        retry: Retry = _DEFAULT_RETRY,
        metrics: bool | str | MetricsSink | Any | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
    ) -> None: ...
    @overload
    def __init__(
        self: Projection[M],
        function: ProjectFunction[M],
        *,
        sink: Sink,
        model: type[M],
        retry: Retry = _DEFAULT_RETRY,
        metrics: bool | str | MetricsSink | Any | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
    ) -> None: ...
    def __init__(
        self,
        function: ProjectFunction[Any],
        *,
        sink: Sink,
        model: type[Any] | None = None,
        retry: Retry = _DEFAULT_RETRY,
        metrics: bool | str | MetricsSink | Any | None = None,
        deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS,
    ) -> None:
        if not callable(function):
            raise UsageError(f"function must map an image to target items, got {function!r}")
        if not isinstance(sink, Sink):
            raise UsageError(f"sink must be a DynamoDBSink, a MemorySink or a Sink, got {sink!r}")
        margin = deadline_margin_ms
        if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
            raise UsageError(f"deadline_margin_ms={margin!r} must be an int >= 0")
        if not isinstance(retry, Retry):
            raise UsageError(f"retry must be a ddbstream.aggregate.Retry, got {retry!r}")
        self.function = function
        self.sink = sink
        self.model = model
        self.retry = retry
        self.deadline_margin_ms = margin
        self._metrics = resolve_metrics(metrics)
        self._namespace = f"project|{sink.name or ''}"

    def __repr__(self) -> str:
        name = getattr(self.function, "__qualname__", None) or repr(self.function)
        parts = [name, f"sink={self.sink!r}"]
        if self.model is not None:
            parts.append(f"model={getattr(self.model, '__qualname__', self.model)}")
        if self.retry != _DEFAULT_RETRY:
            parts.append(f"retry={self.retry!r}")
        if self.deadline_margin_ms != DEFAULT_DEADLINE_MARGIN_MS:
            parts.append(f"deadline_margin_ms={self.deadline_margin_ms}")
        return f"Projection({', '.join(parts)})"

    # -- one record -------------------------------------------------------------------------

    def changes(self, record: StreamRecord[Any]) -> list[Change]:
        """The changes one record makes to the target (no write, no de-duplication).

        Raises:
            ProjectionError: the record lacks an image the projection needs, the function
                raised or returned something that is not target items, or an item lacks the
                target's key.
            ImageValidationError: an image does not fit ``model``.
        """
        return list(self._effect(record)[1].values())

    def _effect(self, record: StreamRecord[Any]) -> tuple[bool, dict[Hashable, Change]]:
        bound = bind_now(record, self.model)
        name = bound.event_name
        version = int(bound.sequence_number)
        new: dict[KeyId, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
        old: dict[KeyId, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
        try:
            if name is not EventName.REMOVE:
                new = self._targets(bound.require_new(), bound, "NewImage")
            if name is not EventName.INSERT:
                old = self._targets(bound.require_old(), bound, "OldImage")
        except MissingImageError as exc:
            raise ProjectionError(
                f"{exc.reason}: a projection needs the NEW_AND_OLD_IMAGES stream view type (the "
                "old image says which target items the change replaces)",
                path=exc.path,
                event_id=exc.event_id,
                sequence_number=exc.sequence_number,
            ) from None
        changes: dict[Hashable, Change] = {
            ident: Change(key, item, version, created=ident not in old)
            for ident, (key, item) in new.items()
        }
        for ident, (key, _) in old.items():
            if ident not in new:
                changes[ident] = Change(key, None, version)
        return not changes, changes

    def _targets(
        self, image: Any, record: StreamRecord[Any], field: str
    ) -> dict[KeyId, tuple[Mapping[str, Any], Mapping[str, Any]]]:
        where: dict[str, Any] = {
            "event_id": event_id_of(record),
            "sequence_number": record.sequence_number,
        }
        try:
            produced = self.function(image)
        except DataError as exc:
            raise exc.in_record(**where, prefix=("dynamodb", field)) from exc
        except Exception as exc:
            raise ProjectionError(
                f"the projection function raised {type(exc).__name__}: {exc}",
                path=("dynamodb", field),
                **where,
            ) from exc
        out: dict[KeyId, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
        for n, item in enumerate(_as_items(produced, where, field)):
            try:
                serialize_image(item)
                key = _key_of(item, self.sink.key)
            except DataError as exc:
                raise ProjectionError(
                    f"target item {n} of the {field}: {exc.reason}",
                    path=exc.path,
                    **where,
                ) from None
            ident = key_id(key, self.sink.key)
            if ident in out:
                raise ProjectionError(
                    f"the projection function returned two target items with the key {key!r} "
                    f"for the {field}: return one item per target key",
                    **where,
                )
            out[ident] = (key, item)
        return out

    # -- a batch ----------------------------------------------------------------------------

    def apply(
        self, records: Sequence[StreamRecord[Any]] | Any, context: LambdaContext | None = None
    ) -> ProjectionResult:
        """Project one delivery (a Lambda event or a sequence of records) into the sink.

        Each failed record is logged once at WARNING on ``ddbstream.project``, the batch once
        at INFO, and its numbers go to the metrics (``component=project``).

        Raises:
            DecodeError: the event is not a stream event, or a record has no item identifier.
            UsageError: Kinesis records (they may reorder an item's changes), or the sink
                cannot work (a missing table, no credentials).
        """
        if isinstance(records, (str, bytes)) or not isinstance(records, Sequence):
            records = StreamEvent.parse(records).records
        remaining = None if context is None else context.get_remaining_time_in_millis
        result = self._run(records, Deadline(remaining, self.deadline_margin_ms))
        report(
            result,
            records,
            metrics=self._metrics,
            function=function_name(context),
            logger=log,
            component="project",
        )
        return result

    def _run(self, records: Sequence[StreamRecord[Any]], deadline: Deadline) -> ProjectionResult:
        started = time.perf_counter()
        check_envelopes(records, advice="or project each item's latest state another way")
        identifiers = [r.item_identifier for r in records]
        tally = Tally(len(records))
        parts = parts_of(records, self._namespace, tally, self._effect, what="projections")
        live = [
            p for p in parts if p.index not in tally.failed and p.index not in tally.not_attempted
        ]
        settle(
            live,
            writer=SinkWriter(self.sink),
            coalesce=newest,
            max_lanes=_ALL_LANES,
            retry=self.retry,
            tally=tally,
            deadline=deadline,
        )
        return result_of(identifiers, tally, time.perf_counter() - started, ProjectionResult)

    def handle(self, event: Any, context: LambdaContext | None = None) -> BatchResponse:
        """A Lambda handler body: project the event, return the partial batch response.

        Raises:
            DecodeError: see :meth:`apply` (Lambda retries the whole batch).
            UsageError: see :meth:`apply`; also a tumbling-window event (a projection keeps no
                window state: remove ``TumblingWindowInSeconds`` from the mapping).
        """
        parsed = StreamEvent.parse(event)
        if parsed.tumbling_window is not None:
            raise UsageError(
                "a projection writes each batch as it comes; remove TumblingWindowInSeconds from "
                "the event source mapping"
            )
        return self.apply(parsed.records, context).response()

    def apply_record(self, record: StreamRecord[Any]) -> None:
        """Project one record: a route function for :class:`~ddbstream.Router`.

        ``router.add(condition, projection.apply_record)`` mounts the projection as a route;
        the router's stop-at-first-failure partial batch response then covers it. Each record
        is its own write (no coalescing): when the projection owns the whole batch,
        :meth:`handle` writes less.

        Raises:
            ProjectionError: the record cannot be projected (the router fails it).
            TransientError: the sink stayed unavailable through every retry.
        """
        result = self._run((record,), NO_DEADLINE)
        if not result.ok:
            raise result.errors[0]


def newest(parts: Sequence[Part[Change]]) -> Change:
    """The change a chunk of one target's parts writes: the newest one, flagged ``created``
    when the target's first change in the batch created it."""
    first = min(parts, key=lambda p: (p.sequence, p.index))
    last = max(parts, key=lambda p: (p.sequence, p.index))
    return dataclasses.replace(last.effect, created=first.effect.created)


def _as_items(produced: object, where: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    if produced is None:
        return []
    if isinstance(produced, Mapping):
        return [produced]
    if (
        isinstance(produced, Sequence)
        and not isinstance(produced, (str, bytes))
        and all(isinstance(item, Mapping) for item in produced)
    ):
        return list(produced)
    raise ProjectionError(
        f"the projection function returned {type(produced).__name__} for the {field}: return "
        "a target item (a mapping), a list of them, or None",
        path=("dynamodb", field),
        **where,
    )


def _key_of(item: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    key: dict[str, Any] = {}
    for name in names:
        if name not in item or item[name] is None:
            present = ", ".join(sorted(item)) or "none"
            raise ProjectionError(
                f"it lacks the target's key attribute {name!r} (it has: {present})", path=(name,)
            )
        tag, value = next(iter(serialize(item[name], path=(name,)).items()))
        if tag not in ("S", "N", "B") or value == "":
            raise ProjectionError(
                f"key attribute {name!r} must be a non-empty string, a number or non-empty "
                f"bytes, got {item[name]!r}",
                path=(name,),
            )
        key[name] = item[name]
    return key
