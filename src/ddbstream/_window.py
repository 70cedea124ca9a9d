"""Lambda tumbling windows: fold records into the window's state, flush it when the window ends.

With ``TumblingWindowInSeconds`` set on the event source mapping, Lambda hands each invocation
the state the previous invocation of the same shard and window returned, and expects the new
state back (``{"state": ..., "batchItemFailures": [...]}``; without ``state`` the invocation
counts as failed). When the window closes, a last invocation has ``isFinalInvokeForWindow``:
that is when the aggregate is written somewhere. State is limited to 1 MB per shard.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._errors import LimitExceeded, UsageError
from ._event import StreamEvent
from ._records import StreamRecord

__all__ = ["MAX_STATE_BYTES", "TumblingWindow", "Window", "state_size"]

#: Lambda's limit on a tumbling window's state (per shard), in bytes of JSON.
MAX_STATE_BYTES = 1024 * 1024

Folder = Callable[[dict[str, Any], StreamRecord[Any]], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Window:
    """The tumbling window of one invocation, as Lambda describes it.

    Attributes:
        start: the window's start (aware UTC).
        end: the window's end (aware UTC).
        shard_id: the shard the window belongs to.
        state: the state the previous invocation returned (``{}`` on the first).
        is_final_invoke: ``isFinalInvokeForWindow``: the window is over; flush its state.
        is_terminated_early: ``isWindowTerminatedEarly``: the state hit the 1 MB limit and
            Lambda started the window over with a fresh state.

    Example:
        >>> from ddbstream import StreamEvent, Window
        >>> from ddbstream.testing import insert, tumbling_window_event
        >>> event = tumbling_window_event([insert({"pk": "a"})], start="2024-06-10T00:00:00Z",
        ...                               end="2024-06-10T00:05:00Z", state={"n": 1}, final=True)
        >>> window = Window.from_event(StreamEvent.parse(event))
        >>> window.end - window.start, window.state, window.is_final_invoke
        (datetime.timedelta(seconds=300), {'n': 1}, True)
    """

    start: _dt.datetime
    end: _dt.datetime
    shard_id: str | None = None
    state: Mapping[str, Any] = field(default_factory=dict)
    is_final_invoke: bool = False
    is_terminated_early: bool = False

    @classmethod
    def from_event(cls, event: StreamEvent[Any]) -> Window | None:
        """The window of a tumbling-window invocation; None for any other event."""
        bounds = event.window
        if bounds is None:
            return None
        return cls(
            start=bounds[0],
            end=bounds[1],
            shard_id=event.shard_id,
            state=event.state or {},
            is_final_invoke=event.is_final_invoke_for_window,
            is_terminated_early=event.is_window_terminated_early,
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise UsageError(
        f"tumbling-window state must be JSON: {type(value).__name__} value {value!r} is not"
    )


def state_size(state: Mapping[str, Any]) -> int:
    """The size of ``state`` in bytes of compact JSON (Decimals count as their digits).

    Raises:
        UsageError: the state holds a value JSON cannot carry.
    """
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    return len(text.encode("utf-8"))


def check_state(state: Mapping[str, Any], window: Window) -> None:
    """Refuse a state Lambda would not keep.

    Raises:
        LimitExceeded: the state is over :data:`MAX_STATE_BYTES`.
        UsageError: the state is not a JSON object.
    """
    size = state_size(state)
    if size > MAX_STATE_BYTES:
        raise LimitExceeded(
            f"tumbling-window state is {size} bytes of JSON, over Lambda's limit of "
            f"{MAX_STATE_BYTES} bytes per shard (shard {window.shard_id}, window "
            f"{window.start.isoformat()}..{window.end.isoformat()}); keep aggregates in the "
            "state, not records"
        )


@dataclass(frozen=True, slots=True)
class TumblingWindow:
    """Folds each processed record into the tumbling window's state; flushes it at window end.

    Attach it to a router (``Router(window=TumblingWindow(...))``). For each record, after its
    routes succeed, ``folder(state, record)`` returns the new state; ``flush(state, window)``
    runs once, on the final invocation of the window, when every record of it succeeded. The
    folder must return a new mapping rather than change the one it gets: the state returned
    after a failure is the one folded up to (not including) the failed record, so the retry
    that starts at that record does not count anything twice.

    Args:
        folder: ``(state, record) -> new state``; state is a JSON-able ``dict``.
        flush: ``(state, window) -> None``, called on ``isFinalInvokeForWindow``. If it
            raises, the invocation fails and Lambda retries it with the state it had.
        model: bind records to this model before folding (a validation failure fails the
            record).
        condition: fold only the records it matches (a filter or ``(record) -> bool``).

    Example:
        >>> from ddbstream import Router, TumblingWindow
        >>> def count(state, record):
        ...     return {**state, "n": state.get("n", 0) + 1}
        >>> router = Router(window=TumblingWindow(count))
    """

    folder: Folder
    flush: Callable[[dict[str, Any], Window], object] | None = None
    model: type[Any] | None = None
    condition: Any = None

    def __repr__(self) -> str:
        parts = [_name(self.folder)]
        if self.flush is not None:
            parts.append(f"flush={_name(self.flush)}")
        if self.model is not None:
            parts.append(f"model={_name(self.model)}")
        if self.condition is not None:
            parts.append(f"condition={self.condition!r}")
        return f"TumblingWindow({', '.join(parts)})"


def _name(obj: Any) -> str:
    return str(getattr(obj, "__qualname__", None) or repr(obj))
