"""What the runner hands a handler besides the event, and what it counts while running."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

__all__ = ["LambdaContext", "RunnerStats"]


@dataclasses.dataclass(slots=True)
class LambdaContext:
    """The context object of a local invocation, with the attributes of Lambda's Python one.

    ``get_remaining_time_in_millis()`` counts down from the function timeout, so code that
    checks it behaves as it would on Lambda.

    Example:
        >>> ctx = LambdaContext(function_name="orders", timeout=3.0)
        >>> 0 < ctx.get_remaining_time_in_millis() <= 3000
        True
    """

    function_name: str = "ddbstream-local"
    timeout: float = 3.0
    region: str = "us-east-1"
    account_id: str = "000000000000"
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    aws_request_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    identity: object = None
    client_context: object = None
    _deadline: float = dataclasses.field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout

    @property
    def invoked_function_arn(self) -> str:
        """``arn:aws:lambda:<region>:<account>:function:<name>``."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        """``/aws/lambda/<name>``."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A log stream name in Lambda's format."""
        day = time.strftime("%Y/%m/%d", time.gmtime())
        return f"{day}/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclasses.dataclass(slots=True)
class RunnerStats:
    """Counters of a run; every record read ends in exactly one of succeeded/filtered/failed.

    Attributes:
        records_read: records received from GetRecords.
        records_succeeded: records the handler processed successfully.
        records_filtered: records that matched no filter (they count as processed).
        records_failed: records sent to the on-failure destination.
        invocations: handler calls (retries and window-final invokes included).
        function_errors: invocations that raised, timed out or returned unserialisable data.
        partial_failures: invocations that reported batch item failures.
        trimmed: times a shard was restarted at TRIM_HORIZON because data was trimmed.
        last_record_time: ``ApproximateCreationDateTime`` of the newest record handled.
        started: ``time.monotonic()`` at the start of the run.
    """

    records_read: int = 0
    records_succeeded: int = 0
    records_filtered: int = 0
    records_failed: int = 0
    invocations: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    trimmed: int = 0
    last_record_time: float | None = None
    started: float = dataclasses.field(default_factory=time.monotonic)
    lock: threading.Lock = dataclasses.field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def add(self, **counts: int) -> None:
        """Add to counters, thread-safely."""
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    @property
    def behind_latest_ms(self) -> int | None:
        """How old the newest handled record is, in ms (DynamoDB Local: minute resolution)."""
        if self.last_record_time is None:
            return None
        return max(0, int((time.time() - self.last_record_time) * 1000))

    @property
    def records_per_second(self) -> float:
        """Records read per second since the start."""
        elapsed = time.monotonic() - self.started
        return self.records_read / elapsed if elapsed > 0 else 0.0
