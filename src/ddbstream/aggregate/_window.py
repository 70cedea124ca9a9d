"""Tumbling-window aggregation: fold into Lambda's window state, write once per window.

With ``TumblingWindowInSeconds`` set, Lambda passes each invocation the ``state`` the previous
one returned for the shard and window. The aggregator folds the batch's deltas into that state
(JSON-safe: Decimals as strings), keeps a per-item watermark in it so redelivered records are not
folded twice, and returns it. On the final invoke (``isFinalInvokeForWindow``) it writes the
window's deltas to the sink once: each write carries a marker keyed by shard id, window start
and chunk number, conditioned on not existing yet, so a retried final invoke writes nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._codec import deserialize, serialize
from .._errors import AggregationError, DDBStreamError
from .._event import StreamEvent
from .._window import check_state
from ._delta import Change, Deltas, change_of, merge_deltas
from ._engine import commit_units
from ._plan import Unit

if TYPE_CHECKING:
    from ._spec import Aggregator

__all__ = ["dump_state", "handle_window", "load_state"]

_VERSION = 1


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def dump_state(spec: Aggregator, deltas: Deltas, seen: Mapping[str, str]) -> dict[str, Any]:
    """The JSON-safe window state: group deltas (Decimals as strings) and item watermarks."""
    groups = [
        [
            serialize(list(g) if isinstance(g, tuple) else g),
            {name: spec.measures[name].dump(state) for name, state in values.items()},
        ]
        for g, values in deltas.items()
    ]
    return {"v": _VERSION, "groups": groups, "seen": dict(seen)}


def load_state(spec: Aggregator, state: Mapping[str, Any] | None) -> tuple[Deltas, dict[str, str]]:
    """The inverse of :func:`dump_state`; an empty or absent state is an empty window."""
    if not state:
        return {}, {}
    if state.get("v") != _VERSION:
        raise AggregationError(f"unknown tumbling-window state version {state.get('v')!r}")
    deltas: Deltas = {}
    for raw_group, values in state.get("groups", []):
        group = _hashable(deserialize(raw_group))
        deltas[group] = {name: spec.measures[name].load(v) for name, v in values.items()}
    return deltas, dict(state.get("seen", {}))


def _item_hash(change: Change) -> str:
    text = json.dumps([change.item[0], change.item[1]], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _fold(
    spec: Aggregator, event: StreamEvent[Any], deltas: Deltas, seen: dict[str, str]
) -> tuple[Deltas, list[str]]:
    """Fold the event's records in order; stop at the first bad record (it and every later
    record are reported, so the state only ever holds a prefix of the shard)."""
    parts: list[Mapping[Any, Mapping[str, Any]]] = [deltas]
    records = event.records
    for index, record in enumerate(records):
        try:
            change = change_of(spec, record, index)
        except DDBStreamError:
            return merge_deltas(spec, parts), [r.item_identifier for r in records[index:]]
        key = _item_hash(change)
        if key in seen and int(seen[key]) >= change.sequence:
            continue  # redelivered: already in the state
        seen[key] = str(change.sequence)
        parts.append(change.deltas)
    return merge_deltas(spec, parts), []


def _flush(spec: Aggregator, event: StreamEvent[Any], deltas: Deltas) -> None:
    sink = spec._sink()
    window = event.tumbling_window
    assert window is not None
    tag = f"{window.shard_id or ''}#{window.start.isoformat()}"
    per_unit = max(1, sink.max_actions - 1)
    ordered = sorted(deltas.items(), key=lambda kv: repr(kv[0]))
    units = []
    for number, start in enumerate(range(0, len(ordered), per_unit)):
        chunk = dict(ordered[start : start + per_unit])
        item = ("#window", (("window", tag), ("chunk", str(number))))
        change = Change(index=number, identifier=tag, sequence=1, item=item, deltas=chunk)
        units.append(Unit(item, [change], frozenset(chunk)))
    result = commit_units(spec, sink, units, identifiers=[tag] * len(units))
    if not result.ok:
        raise result.errors[0]


def handle_window(spec: Aggregator, event: StreamEvent[Any]) -> dict[str, Any]:
    """Handle one tumbling-window invocation; returns ``{"state": ..., "batchItemFailures": ...}``.

    Raises:
        AggregationError: a write of the final invoke failed (Lambda retries the final invoke;
            the window markers make the retry write nothing twice).
        LimitExceeded: the folded state is over Lambda's 1 MB per shard (too many groups or
            items in one window: shorten the window or aggregate without one).
    """
    window = event.tumbling_window
    deltas, seen = load_state(spec, None if window is None else dict(window.state))
    deltas, failed = _fold(spec, event, deltas, seen)
    failures = [{"itemIdentifier": i} for i in failed]
    if window is not None and window.is_final_invoke and not failed:
        if deltas:
            _flush(spec, event, deltas)
        return {"state": {}, "batchItemFailures": []}
    state = dump_state(spec, deltas, seen)
    if window is not None:
        check_state(state, window)
    return {"state": state, "batchItemFailures": failures}
