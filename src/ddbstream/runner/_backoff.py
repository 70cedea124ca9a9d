"""Jittered exponential backoff: the one retry policy of the runner.

The shard reader retries throttled and failed AWS calls with it (as AWS's own Kinesis adapter
does: 50 ms doubling to 1 s, +/- 20%), and the invoker waits with it between retries of a
failed batch (``retry_delay`` doubling to 1 s, no jitter).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._aws import aws_error
from .._errors import DDBStreamError

__all__ = ["Backoff"]

log = logging.getLogger("ddbstream.runner")

R = TypeVar("R")


@dataclasses.dataclass(frozen=True, slots=True)
class Backoff:
    """Jittered exponential backoff: ``base * 2**n`` capped at ``cap``, +/- ``jitter``.

    Args:
        base: first delay in seconds.
        cap: largest delay in seconds.
        jitter: relative jitter (0.2 is +/- 20%).
        max_attempts: calls before giving up; None retries forever.

    Example:
        >>> Backoff(base=0.05, cap=1.0, jitter=0.0).delay(3)
        0.4
    """

    base: float = 0.05
    cap: float = 1.0
    jitter: float = 0.2
    max_attempts: int | None = 10

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        raw = min(self.cap, self.base * (2 ** min(max(attempt, 0), 30)))
        if not self.jitter:
            return float(raw)
        return float(max(0.0, raw * (1 + random.uniform(-self.jitter, self.jitter))))

    def call(
        self,
        fn: Callable[..., R],
        what: str,
        kwargs: Mapping[str, Any],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> R:
        """Call ``fn(**kwargs)`` and retry it on throttling and service errors.

        Raises:
            DDBStreamError: the call still fails after ``max_attempts``.
        """
        attempt = 0
        while True:
            try:
                return fn(**kwargs)
            except Exception as exc:
                error = aws_error(exc)
                if error is None or not error.retryable:
                    raise
                attempt += 1
                if self.max_attempts is not None and attempt >= self.max_attempts:
                    raise DDBStreamError(
                        f"{what} still fails after {attempt} attempts: {exc}"
                    ) from exc
                delay = self.delay(attempt - 1)
                log.debug("%s: %s, retrying in %.2f s", what, error.code, delay)
                sleep(delay)
