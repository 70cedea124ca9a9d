"""Retrying one store step: the backoff both the claims and the outbox use."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from .._batch import current_context
from .._errors import TransientError
from .._settle import Deadline, Retry

__all__ = ["persist"]

T = TypeVar("T")


def persist(
    step: Callable[[], T],
    *,
    what: str,
    retry: Retry,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``step()``, retried with ``retry``'s jittered backoff while it raises
    :class:`~ddbstream.TransientError`, never sleeping past the Lambda deadline of the batch
    being run.

    Raises:
        TransientError: the last attempt's, naming ``what`` and the number of attempts.

    Example:
        >>> persist(lambda: 1, what="nothing", retry=Retry())
        1
    """
    context = current_context()
    deadline = Deadline(None if context is None else context.get_remaining_time_in_millis)
    attempts = max(1, retry.attempts)
    attempt = 0
    while True:
        try:
            return step()
        except TransientError as exc:
            delay = retry.delay(attempt)
            attempt += 1
            if attempt >= attempts or not deadline.allows(delay):
                raise TransientError(f"{what}: {exc} (after {attempt} attempts)") from exc
            sleep(delay)
