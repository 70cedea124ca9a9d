"""Tumbling-window aggregation: fold into Lambda's window state, write once per window.

With ``TumblingWindowInSeconds`` set, Lambda passes each invocation the ``state`` the previous
one returned for the shard and window. The aggregator folds the batch's deltas into that state
(JSON-safe: Decimals as strings), keeps a per-item watermark in it so redelivered records are not
folded twice, and returns it. On the final invoke (``isFinalInvokeForWindow``) it writes the
window's deltas to the sink through the exactly-once core, in one lane per (shard, window): a
retried final invoke finds that lane's watermark in every group it wrote and writes nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Mapping
from typing import Any

from .._codec import deserialize, serialize
from .._errors import AggregationError, DDBStreamError
from .._event import StreamEvent
from .._marks import lane_of
from .._records import StreamRecord
from .._settle import NO_DEADLINE, Deadline, Part, Tally
from .._types import BatchResponse
from .._window import check_state
from ._engine import settle_in
from ._sink import GroupDelta, Sink
from ._spec import AggregateSpec, Deltas

__all__ = ["dump_state", "handle_window", "load_state"]

_VERSION = 1


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value  # type: ignore[no-any-return]


def dump_state(spec: AggregateSpec[Any], deltas: Deltas, seen: Mapping[str, str]) -> dict[str, Any]:
    """The JSON-safe window state: group deltas (Decimals as strings) and item watermarks."""
    groups = [
        [
            serialize(list(g) if isinstance(g, tuple) else g),
            {name: spec.measures[name].dump(state) for name, state in values.items()},
        ]
        for g, values in deltas.items()
    ]
    return {"v": _VERSION, "groups": groups, "seen": dict(seen)}


def load_state(
    spec: AggregateSpec[Any], state: Mapping[str, Any] | None
) -> tuple[Deltas, dict[str, str]]:
    """The inverse of :func:`dump_state`; an empty or absent state is an empty window.

    Raises:
        AggregationError: the state was not written by this version, or does not fit the
            aggregator's measures.
    """
    if not state:
        return {}, {}
    if state.get("v") != _VERSION:
        raise AggregationError(f"unknown tumbling-window state version {state.get('v')!r}")
    deltas: Deltas = {}
    try:
        for raw_group, values in state.get("groups", []):
            group = _hashable(deserialize(raw_group))
            deltas[group] = {name: spec.measures[name].load(v) for name, v in values.items()}
        seen = {str(k): str(v) for k, v in dict(state.get("seen", {})).items()}
    except DDBStreamError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise AggregationError(
            f"the tumbling-window state does not fit this aggregator: {exc}"
        ) from exc
    return deltas, seen


def _item_hash(record: StreamRecord[Any]) -> str:
    text = json.dumps([record.table_name or "", record.item_key], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _fold(
    spec: AggregateSpec[Any], event: StreamEvent[Any], deltas: Deltas, seen: dict[str, str]
) -> tuple[Deltas, list[str]]:
    """Fold the event's records in order; stop at the first bad record (it and every later
    record are reported, so the state only ever holds a prefix of the shard)."""
    parts: list[Mapping[Hashable, Mapping[str, Any]]] = [deltas]
    records = event.records
    for index, record in enumerate(records):
        try:
            effect = spec.effect(record)
            key = _item_hash(record)
        except DDBStreamError:
            return spec.merge(parts), [r.item_identifier for r in records[index:]]
        sequence = int(record.sequence_number)
        if key in seen and int(seen[key]) >= sequence:
            continue  # redelivered: already in the state
        seen[key] = str(sequence)
        parts.append(effect.deltas)
    return spec.merge(parts), []


def _flush(
    spec: AggregateSpec[Any],
    sink: Sink,
    event: StreamEvent[Any],
    deltas: Deltas,
    namespace: str,
    deadline: Deadline,
) -> None:
    window = event.tumbling_window
    assert window is not None
    lane = lane_of(namespace, "window", window.shard_id or "", window.start.isoformat())
    parts: list[Part[GroupDelta]] = [Part(g, lane, 1, 0, d) for g, d in deltas.items()]
    tally = Tally(1)
    settle_in(spec, sink, parts, tally, deadline=deadline)
    error = tally.failed.get(0) or tally.not_attempted.get(0)
    if error is not None:
        raise error


def handle_window(
    spec: AggregateSpec[Any],
    sink: Sink,
    event: StreamEvent[Any],
    *,
    namespace: str,
    deadline: Deadline = NO_DEADLINE,
) -> BatchResponse:
    """Handle one tumbling-window invocation; returns ``{"state": ..., "batchItemFailures": ...}``.

    Raises:
        AggregationError: the state does not fit the aggregator, or a write of the final invoke
            failed (Lambda retries the final invoke; the window's lane makes the retry write
            nothing twice).
        TransientError: the deadline came before the final writes were done.
        LimitExceeded: the folded state is over Lambda's 1 MB per shard (too many groups or
            items in one window: shorten the window or aggregate without one).
    """
    window = event.tumbling_window
    deltas, seen = load_state(spec, None if window is None else dict(window.state))
    deltas, failed = _fold(spec, event, deltas, seen)
    if window is not None and window.is_final_invoke and not failed:
        if deltas:
            _flush(spec, sink, event, deltas, namespace, deadline)
        return {"state": {}, "batchItemFailures": []}
    state = dump_state(spec, deltas, seen)
    if window is not None:
        check_state(state, window)
    return {"state": state, "batchItemFailures": [{"itemIdentifier": i} for i in failed]}
