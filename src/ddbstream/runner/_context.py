"""What the runner hands a handler besides the event, and what it counts while running."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

__all__ = ["LambdaContext", "Retrying", "RunnerStats"]


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


@dataclasses.dataclass(frozen=True, slots=True)
class Retrying:
    """Records the runner keeps retrying: a batch (or a window's final invoke) that failed.

    Attributes:
        shard_id: the shard.
        sequence_number: SequenceNumber of the first record still to process (None for a
            window's final invoke, which has no records).
        event_id: its eventID.
        records: how many records are being retried.
        attempts: invocations that included the first record so far (Lambda's
            ``approximateInvokeCount``).
        oldest_record_time: ``ApproximateCreationDateTime`` of the first record.
        error: the last failure (``"ValueError: bad amount"``, ``"batchItemFailures: ..."``).

    Example:
        >>> state = Retrying("shardId-1", "100", "e1", records=3, attempts=4, error="KeyError")
        >>> str(state)
        'shard shardId-1: 3 record(s) from SequenceNumber=100 eventID=e1, 4 attempt(s); ...'
    """

    shard_id: str
    sequence_number: str | None
    event_id: str | None
    records: int = 0
    attempts: int = 0
    oldest_record_time: float | None = None
    error: str | None = None

    def age_ms(self, now: float | None = None) -> int | None:
        """How old the first record is, in ms (None without a creation time)."""
        if self.oldest_record_time is None:
            return None
        return max(0, int(((time.time() if now is None else now) - self.oldest_record_time) * 1000))

    def __str__(self) -> str:
        what = (
            f"SequenceNumber={self.sequence_number} eventID={self.event_id}"
            if self.sequence_number is not None
            else "the final invoke of its tumbling window"
        )
        age = self.age_ms()
        old = "" if age is None else f", first record {age / 1000:.0f} s old"
        return (
            f"shard {self.shard_id}: {self.records} record(s) from {what}, "
            f"{self.attempts} attempt(s){old}; last error: {self.error}"
        )


@dataclasses.dataclass(slots=True)
class RunnerStats:
    """Counters of a run; every record read ends in exactly one of succeeded/filtered/failed,
    or is still being retried when the run stops (then it is not checkpointed).

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
        retrying: the batches being retried now, one per shard (and lane).
        stuck: what made an ``until_idle`` run stop: records still failing after
            ``stuck_after`` attempts (empty otherwise).
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
    retrying: dict[str, Retrying] = dataclasses.field(default_factory=dict)
    stuck: list[Retrying] = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def add(self, **counts: int) -> None:
        """Add to counters, thread-safely."""
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def set_retrying(self, key: str, state: Retrying | None) -> None:
        """Record (or with None, clear) what the lane ``key`` is retrying, thread-safely."""
        with self.lock:
            if state is None:
                self.retrying.pop(key, None)
            else:
                self.retrying[key] = state

    def add_stuck(self, state: Retrying) -> None:
        """Record records that stayed failing past the run's bound."""
        with self.lock:
            self.stuck.append(state)

    @property
    def records_retrying(self) -> int:
        """Records being retried now, over every shard."""
        with self.lock:
            return sum(r.records for r in self.retrying.values())

    @property
    def retry_attempts(self) -> int:
        """The highest attempt count among the batches being retried (0: none)."""
        with self.lock:
            return max((r.attempts for r in self.retrying.values()), default=0)

    @property
    def oldest_retrying_ms(self) -> int | None:
        """Age of the oldest record being retried, in ms (None: none, or no creation time)."""
        with self.lock:
            ages = [r.age_ms() for r in self.retrying.values()]
        return max((a for a in ages if a is not None), default=None)

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
