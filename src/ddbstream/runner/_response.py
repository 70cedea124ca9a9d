"""How the event source mapping reads what a handler returned.

Lambda's Python runtime serialises the handler's return value to JSON (a value it cannot
serialise is a ``Runtime.MarshalError``, a function error), and the mapping reads that JSON:
:func:`marshal` does the first step as the runtime does, :func:`read_response` the second, as
AWS documents it for DynamoDB streams (``ReportBatchItemFailures``, tumbling-window ``state``).
Neither ever raises, whatever the handler returned.
"""

from __future__ import annotations

import dataclasses
import decimal
import inspect
import json
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

__all__ = ["Outcome", "OutcomeKind", "marshal", "read_response"]

log = logging.getLogger("ddbstream.runner")

OutcomeKind = Literal["success", "function_error", "reported_failure"]
"""How an invocation ended:

* ``success``: every record of the batch is done.
* ``function_error``: the invocation failed (the handler raised, timed out, or returned what the
  runtime cannot serialise); Lambda retries the whole batch and may bisect it.
* ``reported_failure``: the handler ran and returned normally, but its response reports records
  that failed (``batchItemFailures``) or lacks a tumbling window's ``state``; Lambda retries
  from the lowest failed record and never bisects.
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How one invocation ended.

    Attributes:
        kind: see :data:`OutcomeKind`.
        retry_from: index of the first record to retry (records before it are done).
        state: the tumbling-window state the response carried, if any.
        error: what went wrong, for logs and summaries (``"ValueError: bad amount"``).
    """

    kind: OutcomeKind
    retry_from: int = 0
    state: dict[str, Any] | None = None
    error: str | None = None


def _default(value: object) -> object:
    # the runtime writes a Decimal as its own digits (NaN as NaN): parse them the same way
    if isinstance(value, decimal.Decimal):
        return math.nan if value.is_nan() else json.loads(str(value))
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(response: object) -> str:
    """The JSON text Lambda's Python runtime makes of a handler's return value.

    Raises:
        TypeError, ValueError, RecursionError: what the runtime reports as
            ``Runtime.MarshalError`` (the invocation is a function error).
    """
    if inspect.iscoroutine(response):
        response.close()  # Lambda's runtime never awaits it either
        raise TypeError(
            "the handler returned a coroutine: Lambda's Python runtime does not await "
            "async handlers (wrap it: asyncio.run(...))"
        )
    if isinstance(response, (bytes, bytearray)):
        return bytes(response).decode("utf-8", "replace")
    return json.dumps(response, default=_default)


def _state(response: object) -> dict[str, Any] | None:
    if isinstance(response, dict) and isinstance(response.get("state"), dict):
        return dict(response["state"])
    return None


def read_response(
    text: str, sequence_numbers: Sequence[str], *, report_failures: bool, windowed: bool
) -> Outcome:
    """Interpret a handler's serialised response as Lambda does for a DynamoDB stream mapping.

    Without ReportBatchItemFailures any return is a success. With it, ``null``, ``{}``, ``[]``
    and an empty or null ``batchItemFailures`` are successes; an identifier that is empty,
    null, not a string, under another key or not in the batch fails the whole batch; otherwise
    the batch is retried from the lowest failed sequence number (compared as numbers). A
    tumbling window response without a ``state`` object is a failure. A response that is not
    JSON, or not an object, is a success (AWS does not document it; LocalStack does the same).

    Example:
        >>> response = '{"batchItemFailures": [{"itemIdentifier": "7"}]}'
        >>> read_response(response, ["5", "7", "9"], report_failures=True, windowed=False)
        Outcome(kind='reported_failure', retry_from=1, state=None, error='batchItemFailures: 7')
    """
    try:
        response: object = json.loads(text)
    except (ValueError, RecursionError):
        response = text
    state = _state(response)
    if windowed and state is None:
        return Outcome("reported_failure", error="tumbling-window response without a 'state'")
    if not report_failures or response is None or response == []:
        return Outcome("success", state=state)
    if not isinstance(response, Mapping):
        log.warning("a batch response that is not an object counts as success: %.200r", response)
        return Outcome("success", state=state)
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return Outcome("success", state=state)
    whole = Outcome("reported_failure", state=state, error=f"batchItemFailures: {failures!r:.200}")
    if not isinstance(failures, list):
        return whole
    index = {sequence: i for i, sequence in enumerate(sequence_numbers)}
    found: list[int] = []
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not isinstance(ident, str) or ident not in index:
            return whole
        found.append(index[ident])
    lowest = min(found, key=lambda i: (int(sequence_numbers[i]), i))
    idents = ", ".join(sorted({sequence_numbers[i] for i in found}, key=int))[:200]
    return Outcome(
        "reported_failure", retry_from=lowest, state=state, error=f"batchItemFailures: {idents}"
    )
