"""Event source mapping behaviour: how records of one shard become handler invocations.

Given the records read from one shard, :class:`Invoker` drops those no filter matches (they count
as processed), splits the rest into per-item lanes (``ParallelizationFactor``), cuts batches at
``BatchSize`` and 6 MB, invokes the handler, reads its response as Lambda does
(``ReportBatchItemFailures``, tumbling-window ``state``), retries, bisects, and sends what it
gives up on to the on-failure destination with AWS's exact record. Every record ends in one of
three places: handled, filtered out, or sent to the destination.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._config import MAX_PAYLOAD_BYTES, EventSourceMapping
from ._context import LambdaContext, RunnerStats
from ._destination import failure_record
from ._windows import WindowKeeper

__all__ = ["Handler", "Invoker", "Outcome", "read_response"]

log = logging.getLogger("ddbstream.runner")

Handler = Callable[[Any, Any], Any]
_ENVELOPE_BYTES = len('{"Records":[]}')


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How an invocation ended: ``ok``, ``error`` (function error) or ``failed`` (the response
    reported failures); ``retry_from`` is the index of the first record to retry."""

    kind: str
    retry_from: int = 0
    state: dict[str, Any] | None = None


def read_response(
    response: Any, batch: Sequence[Mapping[str, Any]], *, report_failures: bool, windowed: bool
) -> Outcome:
    """Interpret a handler's return value as Lambda does for a DynamoDB stream mapping.

    Without ReportBatchItemFailures any return is a success. With it, ``None``, ``{}``, ``[]``
    and an empty or null ``batchItemFailures`` are successes; an identifier that is empty, null,
    not a string, under another key or not in the batch fails the whole batch; otherwise the
    batch is retried from the lowest failed sequence number (compared as numbers). A tumbling
    window response without ``state`` is a failure.
    """
    state: dict[str, Any] | None = None
    if windowed:
        if not isinstance(response, Mapping) or not isinstance(response.get("state"), Mapping):
            log.warning("tumbling-window response without a 'state' object: batch failed")
            return Outcome("failed")
        state = dict(response["state"])
    if not report_failures or response is None or response == []:
        return Outcome("ok", state=state)
    if not isinstance(response, Mapping):
        log.warning("ignoring a batch response that is not an object: %r", response)
        return Outcome("ok", state=state)
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return Outcome("ok", state=state)
    if not isinstance(failures, list):
        return Outcome("failed", state=state)
    index = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
    lowest: int | None = None
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not isinstance(ident, str) or ident not in index:
            return Outcome("failed", state=state)
        lowest = index[ident] if lowest is None else min(lowest, index[ident])
    return Outcome("failed", retry_from=lowest or 0, state=state)


def _seq(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def cut_batches(
    records: Sequence[dict[str, Any]], batch_size: int, limit: int = MAX_PAYLOAD_BYTES
) -> list[tuple[list[dict[str, Any]], list[str]]]:
    """Split records into batches of at most ``batch_size`` records and ``limit`` bytes of
    event JSON; each batch comes with its records' JSON texts."""
    batches: list[tuple[list[dict[str, Any]], list[str]]] = []
    current: list[dict[str, Any]] = []
    texts: list[str] = []
    size = _ENVELOPE_BYTES
    for record in records:
        text = json.dumps(record, separators=(",", ":"))
        if current and (len(current) >= batch_size or size + len(text) + 1 > limit):
            batches.append((current, texts))
            current, texts, size = [], [], _ENVELOPE_BYTES
        current.append(record)
        texts.append(text)
        size += len(text) + 1
    if current:
        batches.append((current, texts))
    return batches


class Invoker:
    """Runs the handler over one shard's records with the mapping's semantics.

    Args:
        handler: ``handler(event, context)``, any Lambda handler.
        mapping: the settings.
        stream_arn: ``eventSourceARN`` and ``streamArn`` of failure records.
        send_failure: receives each on-failure record.
        stats: counters to update.
        windows: tumbling-window state keeper (required when the mapping has windows).
        function_name / timeout / region / account_id: for the context and the function ARN.
        retry_delay: base of the exponential delay between retries (seconds, capped at 1 s).
        stopping: set when the run is asked to stop; retries are then abandoned unrecorded.
        clock: wall clock in epoch seconds (record age, windows).
    """

    def __init__(
        self,
        handler: Handler,
        mapping: EventSourceMapping,
        *,
        stream_arn: str,
        send_failure: Callable[[dict[str, Any]], None],
        stats: RunnerStats,
        windows: WindowKeeper | None = None,
        function_name: str = "ddbstream-local",
        timeout: float = 3.0,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        retry_delay: float = 0.05,
        stopping: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.handler = handler
        self.mapping = mapping
        self.stream_arn = stream_arn
        self.send_failure = send_failure
        self.stats = stats
        self.windows = windows
        self.function_name = function_name
        self.timeout = timeout
        self.region = region
        self.account_id = account_id
        self.retry_delay = retry_delay
        self.stopping = stopping or threading.Event()
        self.clock = clock
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        if mapping.parallelization_factor > 1:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                mapping.parallelization_factor, thread_name_prefix="ddbstream-lane"
            )

    def close(self) -> None:
        """Release the lane threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    @property
    def function_arn(self) -> str:
        """The ARN the failure records name."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    # -- entry point ------------------------------------------------------------------------

    def process(self, shard_id: str, records: Sequence[dict[str, Any]]) -> bool:
        """Deliver ``records`` (one shard, in order). Returns False when a stop request
        interrupted the work, so the caller must not checkpoint past these records."""
        criteria = self.mapping.filter_criteria
        kept = list(records) if criteria is None else [r for r in records if criteria.matches(r)]
        if len(kept) != len(records):
            self.stats.add(records_filtered=len(records) - len(kept))
        if not kept:
            return True
        if self.windows is not None:
            return self.windows.deliver(self, shard_id, kept)
        factor = self.mapping.parallelization_factor
        if factor == 1 or self._pool is None:
            return self._lane(shard_id, kept)
        lanes: list[list[dict[str, Any]]] = [[] for _ in range(factor)]
        for record in kept:
            key = json.dumps(record["dynamodb"].get("Keys"), sort_keys=True)
            lanes[zlib.crc32(key.encode()) % factor].append(record)
        futures = [self._pool.submit(self._lane, shard_id, lane) for lane in lanes if lane]
        return all(f.result() for f in futures)

    def _lane(self, shard_id: str, records: Sequence[dict[str, Any]]) -> bool:
        for batch, texts in cut_batches(records, self.mapping.batch_size):
            if not self.deliver(shard_id, batch, texts=texts):
                return False
        return True

    # -- one batch with the retry policy ----------------------------------------------------

    def deliver(
        self,
        shard_id: str,
        batch: Sequence[dict[str, Any]],
        window: Callable[[], dict[str, Any]] | None = None,
        *,
        texts: Sequence[str] | None = None,
    ) -> bool:
        """Invoke on ``batch`` until every record is handled or discarded (False: stopped).

        ``window`` returns the tumbling-window fields of the next invocation. ``texts`` are the
        records' JSON (from :func:`cut_batches`); retries are built from
        them, so a retry gets pristine records whatever the handler did to the first ones.
        """
        mapping = self.mapping
        if texts is None:
            texts = [json.dumps(r, separators=(",", ":")) for r in batch]
        stack: list[tuple[int, int, int, int]] = [(0, len(batch), 0, 0)]
        while stack:
            lo, hi, invokes, retries = stack.pop()
            lo = self._drop_expired(shard_id, batch, lo, hi, invokes)
            if lo >= hi:
                continue
            part = [json.loads(t) for t in texts[lo:hi]] if invokes else list(batch[lo:hi])
            outcome, request_id = self.invoke(shard_id, part, window() if window else None)
            invokes += 1
            if self.windows is not None and outcome.state is not None:
                self.windows.update(shard_id, outcome.state)
            if outcome.kind == "ok":
                self._succeeded(part)
                continue
            if outcome.kind == "error" and mapping.bisect_batch_on_function_error and hi - lo > 1:
                mid = (lo + hi) // 2
                stack.append((mid, hi, invokes, retries))
                stack.append((lo, mid, invokes, retries))
                continue
            self._succeeded(part[: outcome.retry_from])
            lo += outcome.retry_from
            retries += 1
            limit = mapping.maximum_retry_attempts
            if limit != -1 and retries > limit:
                error = "Unhandled" if outcome.kind == "error" else None
                self._discard(
                    shard_id,
                    part[outcome.retry_from :],
                    "RetryAttemptsExhausted",
                    invokes,
                    error,
                    request_id,
                )
                continue
            if self.stopping.wait(min(1.0, self.retry_delay * 2 ** min(retries - 1, 10))):
                return False
            stack.append((lo, hi, invokes, retries))
        return True

    def _succeeded(self, part: Sequence[Mapping[str, Any]]) -> None:
        if not part:
            return
        when = part[-1]["dynamodb"].get("ApproximateCreationDateTime")
        self.stats.add(records_succeeded=len(part))
        if isinstance(when, (int, float)):
            self.stats.last_record_time = float(when)

    def _drop_expired(
        self, shard_id: str, batch: Sequence[dict[str, Any]], lo: int, hi: int, invokes: int
    ) -> int:
        age = self.mapping.maximum_record_age_in_seconds
        if age == -1:
            return lo
        oldest_allowed = self.clock() - age
        keep = lo
        while keep < hi:
            when = batch[keep]["dynamodb"].get("ApproximateCreationDateTime")
            if not isinstance(when, (int, float)) or when >= oldest_allowed:
                break
            keep += 1
        if keep > lo:
            self._discard(shard_id, batch[lo:keep], "RecordAgeExceeded", invokes, None, None)
        return keep

    def _discard(
        self,
        shard_id: str,
        part: Sequence[Mapping[str, Any]],
        condition: str,
        invokes: int,
        function_error: str | None,
        request_id: str | None,
    ) -> None:
        record = failure_record(
            part,
            shard_id=shard_id,
            stream_arn=self.stream_arn,
            function_arn=self.function_arn,
            condition=condition,
            invoke_count=invokes,
            function_error=function_error,
            request_id=request_id,
        )
        log.warning(
            "shard %s: %d record(s) %s..%s sent to the on-failure destination (%s)",
            shard_id,
            len(part),
            _seq(part[0]),
            _seq(part[-1]),
            condition,
        )
        self.stats.add(records_failed=len(part))
        self.send_failure(record)

    # -- one invocation ---------------------------------------------------------------------

    def invoke(
        self, shard_id: str, batch: Sequence[dict[str, Any]], window: dict[str, Any] | None
    ) -> tuple[Outcome, str]:
        """Call the handler once; return how it went and the request id."""
        event: dict[str, Any] = {"Records": list(batch)}
        if window is not None:
            event.update(window)
        context = LambdaContext(
            function_name=self.function_name,
            timeout=self.timeout,
            region=self.region,
            account_id=self.account_id,
        )
        self.stats.add(invocations=1)
        started = time.monotonic()
        try:
            response = self.handler(event, context)
            json.dumps(response)  # Lambda serialises the result: Runtime.MarshalError otherwise
        except Exception:
            log.exception("shard %s: handler raised on %d record(s)", shard_id, len(batch))
            self.stats.add(function_errors=1)
            return Outcome("error"), context.aws_request_id
        if time.monotonic() - started > self.timeout:
            log.error("shard %s: handler ran past its %g s timeout", shard_id, self.timeout)
            self.stats.add(function_errors=1)
            return Outcome("error"), context.aws_request_id
        outcome = read_response(
            response,
            batch,
            report_failures=self.mapping.report_batch_item_failures,
            windowed=window is not None,
        )
        if outcome.kind == "failed":
            self.stats.add(partial_failures=1)
        return outcome, context.aws_request_id
