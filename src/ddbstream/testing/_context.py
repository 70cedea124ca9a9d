"""A stand-in for the ``context`` object Lambda passes to a handler, with a controllable clock.

Handlers that stop before the invocation's deadline (and report the rest of the batch as not
attempted) read ``context.get_remaining_time_in_millis()``. :class:`FakeLambdaContext` makes that
deadline a test input: time passes only when the test says so (:meth:`FakeLambdaContext.advance`)
or, with ``clock=time.monotonic``, as it does on Lambda.
"""

from __future__ import annotations

from collections.abc import Callable

from .._errors import UsageError

__all__ = ["FakeLambdaContext"]

_DEFAULT_REMAINING_MS = 60_000
_DEFAULT_FUNCTION = "test-function"
_DEFAULT_REQUEST_ID = "00000000-0000-4000-8000-000000000000"


class FakeLambdaContext:
    """A Lambda context test double: the fields of ``LambdaContext`` and a deadline you control.

    Args:
        remaining_ms: milliseconds left when the invocation starts.
        function_name: ``function_name`` (also used in the ARN and log group).
        aws_request_id: ``aws_request_id``.
        clock: a function returning seconds (e.g. ``time.monotonic``); when given, the
            remaining time also falls as that clock advances. Without it, time moves only
            through :meth:`advance`, which keeps tests deterministic.

    Example:
        >>> from ddbstream.testing import FakeLambdaContext
        >>> context = FakeLambdaContext(remaining_ms=1000)
        >>> context.advance(250)
        >>> context.get_remaining_time_in_millis()
        750
    """

    __slots__ = (
        "_clock",
        "_elapsed_ms",
        "_remaining_ms",
        "_started",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
    )

    def __init__(
        self,
        *,
        remaining_ms: int = _DEFAULT_REMAINING_MS,
        function_name: str = _DEFAULT_FUNCTION,
        aws_request_id: str = _DEFAULT_REQUEST_ID,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if remaining_ms < 0:
            raise UsageError(f"{remaining_ms=} must not be negative")
        self._remaining_ms = remaining_ms
        self._clock = clock
        self._started = clock() if clock is not None else 0.0
        self._elapsed_ms = 0.0
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = "128"
        self.aws_request_id = aws_request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2024/06/10/[$LATEST]00000000000000000000000000000000"
        self.identity = None
        self.client_context = None

    def advance(self, ms: float) -> None:
        """Let ``ms`` milliseconds of the invocation pass."""
        if ms < 0:
            raise UsageError(f"{ms=} must not be negative: time does not run backwards")
        self._elapsed_ms += ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops the invocation (never below 0)."""
        elapsed = self._elapsed_ms
        if self._clock is not None:
            elapsed += (self._clock() - self._started) * 1000
        return max(0, int(self._remaining_ms - elapsed))

    def __repr__(self) -> str:
        args = []
        if self._remaining_ms != _DEFAULT_REMAINING_MS:
            args.append(f"remaining_ms={self._remaining_ms!r}")
        if self.function_name != _DEFAULT_FUNCTION:
            args.append(f"function_name={self.function_name!r}")
        if self.aws_request_id != _DEFAULT_REQUEST_ID:
            args.append(f"aws_request_id={self.aws_request_id!r}")
        if self._clock is not None:
            args.append(f"clock={self._clock!r}")
        return f"FakeLambdaContext({', '.join(args)})"
