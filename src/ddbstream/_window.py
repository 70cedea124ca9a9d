"""Lambda tumbling windows: the window of an invocation, folding records into its state, and the
state's 1 MB limit.

With ``TumblingWindowInSeconds`` set on the event source mapping, Lambda hands each invocation
the state the previous invocation of the same shard and window returned, and expects the new
state back (``{"state": ..., "batchItemFailures": [...]}``; without ``state`` the invocation
counts as failed). When the window closes, a last invocation has ``isFinalInvokeForWindow``:
that is when the aggregate is written somewhere. State is limited to 1 MB per shard.

:class:`Window` is the window of one invocation (``StreamEvent.tumbling_window``);
:class:`TumblingWindow` is what a :class:`~ddbstream.Router` folds into its state.
"""

from __future__ import annotations

import datetime as _dt
import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._errors import DecodeError, LimitExceeded, UsageError
from ._records import StreamRecord, bind_now
from ._reprs import name_of, short_repr
from ._types import Condition, RecordPredicate, predicate_of

if TYPE_CHECKING:
    from ._event import StreamEvent

__all__ = ["MAX_STATE_BYTES", "TumblingWindow", "Window", "check_state", "state_size"]

MAX_STATE_BYTES = 1024 * 1024
"""Lambda's limit on a tumbling window's state (per shard), in bytes of JSON."""

Folder = Callable[[dict[str, Any], StreamRecord[Any]], Mapping[str, Any]]


def _window_time(value: Any, which: str) -> _dt.datetime:
    if not isinstance(value, str):
        raise DecodeError(
            f"window {which} must be an ISO 8601 text, got {short_repr(value)}",
            path=("window", which),
        )
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise DecodeError(
            f"window {which} {short_repr(value)} is not an ISO 8601 time", path=("window", which)
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


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
        >>> from ddbstream import StreamEvent
        >>> from ddbstream.testing import insert, tumbling_window_event
        >>> event = tumbling_window_event([insert({"pk": "a"})], start="2024-06-10T00:00:00Z",
        ...                               end="2024-06-10T00:05:00Z", state={"n": 1}, final=True)
        >>> window = StreamEvent.parse(event).tumbling_window
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
    def from_lambda_event(cls, event: Mapping[str, Any]) -> Window | None:
        """The window of a Lambda tumbling-window event (its ``window``, ``state``, ``shardId``,
        ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly`` fields); None for an event
        without ``window``.

        Raises:
            DecodeError: ``window`` lacks a valid ``start`` or ``end``.
        """
        window = event.get("window")
        if not isinstance(window, Mapping):
            return None
        state = event.get("state")
        shard_id = event.get("shardId")
        return cls(
            start=_window_time(window.get("start"), "start"),
            end=_window_time(window.get("end"), "end"),
            shard_id=shard_id if isinstance(shard_id, str) else None,
            state=dict(state) if isinstance(state, Mapping) else {},
            is_final_invoke=event.get("isFinalInvokeForWindow") is True,
            is_terminated_early=event.get("isWindowTerminatedEarly") is True,
        )

    @classmethod
    def from_event(cls, event: StreamEvent[Any]) -> Window | None:
        """Deprecated: use ``event.tumbling_window``.

        .. deprecated:: 0.1
        """
        warnings.warn(
            "Window.from_event(event) is deprecated; use event.tumbling_window",
            DeprecationWarning,
            stacklevel=2,
        )
        return event.tumbling_window


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise UsageError(
        f"tumbling-window state must be JSON: {type(value).__name__} value "
        f"{short_repr(value)} is not"
    )


def state_size(state: Mapping[str, Any]) -> int:
    """The size of ``state`` in bytes of compact JSON (Decimals count as their digits).

    Raises:
        UsageError: the state holds a value JSON cannot carry.

    Example:
        >>> from decimal import Decimal
        >>> from ddbstream._window import state_size
        >>> state_size({"n": Decimal("1.5")})
        11
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
    condition: Condition | RecordPredicate | None = None

    def __post_init__(self) -> None:
        predicate_of(self.condition)  # a condition that is none fails now, not per record

    def fold(self, state: dict[str, Any], record: StreamRecord[Any]) -> dict[str, Any]:
        """The state after ``record``: ``folder(state, record)`` if the condition matches it
        (bound to ``model``), else ``state`` itself.

        Raises:
            UsageError: the folder returned something other than a mapping.
            Exception: whatever the condition, the binding or the folder raised.
        """
        matches = predicate_of(self.condition)
        if matches is not None and not matches(record):
            return state
        new = self.folder(state, bind_now(record, self.model))
        if not isinstance(new, Mapping):
            raise UsageError(
                f"the window folder {name_of(self.folder)} must return the new state (a dict), "
                f"got {type(new).__name__}"
            )
        return new if isinstance(new, dict) else dict(new)

    def __repr__(self) -> str:
        parts = [name_of(self.folder)]
        if self.flush is not None:
            parts.append(f"flush={name_of(self.flush)}")
        if self.model is not None:
            parts.append(f"model={name_of(self.model)}")
        if self.condition is not None:
            parts.append(f"condition={self.condition!r}")
        return f"TumblingWindow({', '.join(parts)})"
