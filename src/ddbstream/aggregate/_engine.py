"""One batch of records in, exact group totals in the sink, an :class:`AggregateResult` out.

1. Each record's effect is computed by the spec. A record that cannot be aggregated fails, and
   the later records of its source item in the batch wait (not attempted): applying them first
   would set the item's watermark past it, and its effect would be lost on redelivery.
2. Each (record, group) pair with a non-zero delta becomes a part in the record's lane (its
   source item, in the aggregator's namespace), and the exactly-once core (``_settle``) applies
   the parts: one write per touched group (more only when a group has more lanes than one write
   may carry), coalesced, with a watermark per lane.
3. What happened to every record becomes the result (``_apply``), reported by the aggregator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from .._apply import AggregateResult, check_envelopes, parts_of, result_of
from .._records import StreamRecord
from .._settle import NO_DEADLINE, Deadline, Outcome, Part, Tally, Write, settle
from ._sink import GroupDelta, Sink
from ._spec import AggregateSpec

__all__ = ["SinkWriter", "coalescer", "run", "settle_in"]

ItemId = tuple[str, tuple[tuple[str, str], ...]]
E = TypeVar("E")


class SinkWriter:
    """A sink as the exactly-once core's writer, for one spec."""

    def __init__(self, spec: AggregateSpec[Any], sink: Sink) -> None:
        self.spec, self.sink = spec, sink

    def commit(self, writes: Sequence[Write[GroupDelta]]) -> Sequence[Outcome]:
        return self.sink.commit(self.spec, writes)


def _parts(
    spec: AggregateSpec[Any], records: Sequence[StreamRecord[Any]], namespace: str, tally: Tally
) -> list[Part[GroupDelta]]:
    def effect_of(record: StreamRecord[Any]) -> tuple[bool, Mapping[Hashable, GroupDelta]]:
        effect = spec.effect(record)
        return effect.filtered, {group: dict(delta) for group, delta in effect.deltas.items()}

    return parts_of(records, namespace, tally, effect_of, what="exact aggregates")


def coalescer(spec: AggregateSpec[Any]) -> Callable[[Sequence[Part[GroupDelta]]], GroupDelta]:
    """The effect of a chunk of one target's parts: their deltas merged (possibly ``{}``, when
    they cancel out: the write still carries the lanes' watermarks)."""

    def coalesce(parts: Sequence[Part[GroupDelta]]) -> GroupDelta:
        target = parts[0].target
        return spec.merge({target: p.effect} for p in parts).get(target, {})

    return coalesce


def settle_in(
    spec: AggregateSpec[Any],
    sink: Sink,
    parts: Sequence[Part[GroupDelta]],
    tally: Tally,
    *,
    deadline: Deadline = NO_DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Apply ``parts`` to ``sink`` through the exactly-once core, as ``spec`` coalesces them."""
    settle(
        parts,
        writer=SinkWriter(spec, sink),
        coalesce=coalescer(spec),
        max_lanes=sink.lanes_per_write(spec),
        retry=sink.retry,
        tally=tally,
        deadline=deadline,
        sleep=sleep,
    )


def run(
    spec: AggregateSpec[Any],
    sink: Sink,
    records: Sequence[StreamRecord[Any]],
    *,
    namespace: str,
    deadline: Deadline = NO_DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
) -> AggregateResult:
    """Aggregate ``records`` (one delivery, in delivery order) into ``sink``.

    Raises:
        UsageError: Kinesis records into an exactly-once sink (Kinesis Data Streams for DynamoDB
            may reorder and duplicate an item's changes, which no watermark can make exact).
        DecodeError: a record has no item identifier (the whole batch must be retried).
    """
    started = time.perf_counter()
    if sink.exactly_once:
        check_envelopes(records, advice="or use an at-least-once sink (ledger=None)")
    identifiers = [r.item_identifier for r in records]
    tally = Tally(len(records))
    parts = _parts(spec, records, namespace, tally)
    live = [p for p in parts if p.index not in tally.failed and p.index not in tally.not_attempted]
    settle_in(spec, sink, live, tally, deadline=deadline, sleep=sleep)
    return result_of(identifiers, tally, time.perf_counter() - started)
