"""Event source mapping behaviour: how records of one shard become handler invocations.

Given the records read from one shard, :class:`Invoker` drops those no filter matches (they count
as processed), splits the rest into per-item lanes (``ParallelizationFactor``), cuts batches at
``BatchSize`` and 6 MB, invokes the handler (in a :class:`~ddbstream.runner._sandbox.Sandbox`,
on a fresh copy of the event), reads its response as Lambda does, retries, bisects, drives
tumbling windows and their final invokes, and sends what it gives up on to the on-failure
destination with AWS's exact record. Every record ends in one of three places: handled,
filtered out, or sent to the destination; a stop request (or a record stuck past the run's
bound) leaves the rest unhandled and unchecked, for the next run.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import logging
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._observe import BatchSummary, MetricsSink, log_record_failure, record_age_ms
from ._backoff import Backoff
from ._batches import Entry, cut_batches, handed_event, to_entries
from ._config import EventSourceMapping, LocalFunction
from ._context import LambdaContext, Retrying, RunnerStats
from ._failures import FailureRecord
from ._response import Outcome, read_response
from ._sandbox import Handler, Sandbox
from ._windows import WindowKeeper

__all__ = ["Invoker"]

log = logging.getLogger("ddbstream.runner")


@dataclasses.dataclass(slots=True)
class _Tally:
    succeeded: int = 0
    failed: int = 0


def _summary(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()[:500]


def _lane_key(entry: Entry) -> str:
    record = entry.original if entry.original is not None else json.loads(entry.text)
    dynamodb = record.get("dynamodb")
    keys = dynamodb.get("Keys") if isinstance(dynamodb, dict) else None
    return json.dumps(keys, sort_keys=True)


class Invoker:
    """Runs the handler over one shard's records with the mapping's semantics.

    Args:
        handler: ``handler(event, context)``, any Lambda handler.
        mapping: the settings.
        stream_arn: ``eventSourceARN`` and ``streamArn`` of failure records.
        send_failure: receives each :class:`~ddbstream.runner.FailureRecord`.
        stats: counters to update.
        windows: tumbling-window state (required when the mapping has windows).
        function: the function's name, timeout, region and account.
        retry_delay: base of the exponential delay between retries (seconds, capped at 1 s).
        stopping: set when the run is asked to stop; retries are then abandoned unrecorded.
        stuck_after: give up (set ``stopping``, record the batch in ``stats.stuck``) when a
            record is still failing after this many attempts; None retries as the mapping says.
        metrics: receives one summary per delivered gather (None: no metrics).
        clock: wall clock in epoch seconds (record age, windows).
    """

    def __init__(
        self,
        handler: Handler,
        mapping: EventSourceMapping,
        *,
        stream_arn: str,
        send_failure: Callable[[FailureRecord], None],
        stats: RunnerStats,
        windows: WindowKeeper | None = None,
        function: LocalFunction | None = None,
        retry_delay: float = 0.05,
        stopping: threading.Event | None = None,
        stuck_after: int | None = None,
        metrics: MetricsSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.handler = handler
        self.mapping = mapping
        self.stream_arn = stream_arn
        self.send_failure = send_failure
        self.stats = stats
        self.windows = windows
        self.function = function or LocalFunction()
        self.backoff = Backoff(base=retry_delay, cap=1.0, jitter=0.0, max_attempts=None)
        self.stopping = stopping or threading.Event()
        self.stuck_after = stuck_after
        self.metrics = metrics
        self.clock = clock
        self.sandbox = Sandbox()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        if mapping.parallelization_factor > 1:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                mapping.parallelization_factor, thread_name_prefix="ddbstream-lane"
            )

    def close(self) -> None:
        """Release the lane and handler threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.sandbox.close()

    # -- entry points -----------------------------------------------------------------------

    def process(
        self, shard_id: str, records: Sequence[Mapping[str, Any]], *, owned: bool = False
    ) -> bool:
        """Deliver ``records`` (one shard, in order). Returns False when a stop request
        interrupted the work, so the caller must not checkpoint past these records.

        ``owned``: the records were built for this call and the caller never reads them
        again, so the first invocation may hand them to the handler as they are (the runner's
        read loop does); otherwise every invocation gets a copy and ``records`` stay untouched.

        Raises:
            DecodeError: a record lacks a SequenceNumber or is not JSON (nothing was invoked).
        """
        started, tally = time.monotonic(), _Tally()
        entries = to_entries(records, keep=owned)
        criteria = self.mapping.filter_criteria
        if criteria is not None:
            entries = [e for e, r in zip(entries, records, strict=True) if criteria.matches(r)]
        filtered = len(records) - len(entries)
        if filtered:
            self.stats.add(records_filtered=filtered)
        done = True
        if entries and self.windows is not None:
            done = self._deliver_windowed(self.windows, shard_id, entries, tally)
        elif entries:
            done = self._deliver_lanes(shard_id, entries, tally)
        if self.metrics is not None and records:
            summary = BatchSummary(
                component="runner",
                records=len(records),
                processed=tally.succeeded,
                failed=tally.failed,
                not_attempted=len(entries) - tally.succeeded - tally.failed,
                filtered=filtered,
                duration=time.monotonic() - started,
                record_age_ms=record_age_ms((e.created for e in entries), now=self.clock()),
                function=self.function.name,
            )
            self.metrics.publish(summary)
        return done

    def close_expired_window(self, shard_id: str, *, force: bool = False) -> bool:
        """Final-invoke the shard's tumbling window if it has ended (``force``: the shard did).
        Returns False when a stop request interrupted the retries."""
        if self.windows is None or not self.windows.expired(shard_id, force=force):
            return True
        return self._final_invoke(self.windows, shard_id)

    # -- lanes, windows ---------------------------------------------------------------------

    def _deliver_lanes(self, shard_id: str, entries: list[Entry], tally: _Tally) -> bool:
        factor = self.mapping.parallelization_factor
        if factor == 1 or self._pool is None:
            return self._lane(shard_id, entries, tally)
        lanes: list[list[Entry]] = [[] for _ in range(factor)]
        for entry in entries:
            lanes[zlib.crc32(_lane_key(entry).encode()) % factor].append(entry)
        futures = [self._pool.submit(self._lane, shard_id, lane, tally) for lane in lanes if lane]
        results = [f.result() for f in futures]  # every lane ends before the caller moves on
        return all(results)

    def _lane(self, shard_id: str, entries: Sequence[Entry], tally: _Tally) -> bool:
        for batch in cut_batches(entries, self.mapping.batch_size):
            if not self._deliver(shard_id, batch, tally):
                return False
        return True

    def _deliver_windowed(
        self, keeper: WindowKeeper, shard_id: str, entries: Sequence[Entry], tally: _Tally
    ) -> bool:
        groups: list[tuple[float, list[Entry]]] = []
        for entry in entries:
            start = keeper.start_of(entry.created)
            if groups and start <= groups[-1][0]:
                groups[-1][1].append(entry)
            else:
                groups.append((start, [entry]))
        for start, group in groups:
            current = keeper.current(shard_id)
            if current is not None and start > current.start:
                if not self._final_invoke(keeper, shard_id):
                    return False
                current = None
            if current is None:
                keeper.open(shard_id, start)
            for batch in cut_batches(group, self.mapping.batch_size):
                if not self._deliver(shard_id, batch, tally, windowed=True):
                    return False
                if keeper.terminated_early(shard_id) and not self._final_invoke(
                    keeper, shard_id, early=True
                ):
                    return False
        return True

    def _final_invoke(self, keeper: WindowKeeper, shard_id: str, *, early: bool = False) -> bool:
        """The final invoke of the open window, retried as the mapping says (False: stopped).

        ``early``: the state outgrew 1 MB; the same window goes on with a fresh state.
        """
        lane, retries, limit = f"{shard_id}/window", 0, self.mapping.maximum_retry_attempts
        try:
            while True:
                fields = keeper.fields(shard_id, final=True, early=early)
                outcome, _ = self._invoke(shard_id, [], fields, first=retries == 0)
                if outcome.kind == "success":
                    break
                retries += 1
                if limit != -1 and retries > limit:
                    log.error(
                        "shard %s: the final invoke of window %s failed %d times; its state "
                        "is dropped: %s",
                        shard_id,
                        fields["window"],
                        retries,
                        outcome.error,
                    )
                    break
                if not self._retry_after(lane, shard_id, [], retries, retries, outcome.error):
                    return False
        finally:
            self.stats.set_retrying(lane, None)
        keeper.close(shard_id, early=early)
        return True

    # -- one batch with the retry policy ----------------------------------------------------

    def _deliver(
        self, shard_id: str, batch: Sequence[Entry], tally: _Tally, *, windowed: bool = False
    ) -> bool:
        """Invoke on ``batch`` until every record is handled or discarded (False: stopped)."""
        mapping, lane = self.mapping, f"{shard_id}/{threading.get_ident()}"
        stack: list[tuple[int, int, int, int]] = [(0, len(batch), 0, 0)]
        try:
            while stack:
                lo, hi, invokes, retries = stack.pop()
                lo = self._drop_expired(shard_id, batch, lo, hi, invokes, tally)
                if lo >= hi:
                    continue
                part = batch[lo:hi]
                window = self.windows.fields(shard_id) if windowed and self.windows else None
                outcome, request_id = self._invoke(shard_id, part, window, first=invokes == 0)
                invokes += 1
                if self.windows is not None and windowed and outcome.state is not None:
                    self.windows.update(shard_id, outcome.state)
                if outcome.kind == "success":
                    self._succeeded(part, tally)
                    self.stats.set_retrying(lane, None)
                    continue
                if (
                    outcome.kind == "function_error"
                    and mapping.bisect_batch_on_function_error
                    and hi - lo > 1
                ):
                    mid = (lo + hi) // 2
                    stack += [(mid, hi, invokes, retries), (lo, mid, invokes, retries)]
                    continue
                self._succeeded(part[: outcome.retry_from], tally)
                lo, retries = lo + outcome.retry_from, retries + 1
                limit = mapping.maximum_retry_attempts
                if limit != -1 and retries > limit:
                    error = "Unhandled" if outcome.kind == "function_error" else None
                    self._discard(shard_id, batch[lo:hi], invokes, error, request_id, tally)
                    self.stats.set_retrying(lane, None)
                    continue
                if not self._retry_after(
                    lane, shard_id, batch[lo:hi], invokes, retries, outcome.error
                ):
                    return False
                stack.append((lo, hi, invokes, retries))
            return True
        finally:
            self.stats.set_retrying(lane, None)

    def _retry_after(
        self,
        lane: str,
        shard_id: str,
        part: Sequence[Entry],
        attempts: int,
        retries: int,
        error: str | None,
    ) -> bool:
        """The one retry helper: show what is retried, give up when stuck, wait the backoff.
        False: stop (a stop request, or the records are stuck past ``stuck_after``)."""
        head = part[0] if part else None
        state = Retrying(
            shard_id,
            head.sequence_number if head else None,
            head.event_id if head else None,
            records=len(part),
            attempts=attempts,
            oldest_record_time=head.created if head else None,
            error=error,
        )
        self.stats.set_retrying(lane, state)
        if self.stuck_after is not None and attempts >= self.stuck_after:
            self.stats.add_stuck(state)
            log.error("stuck, stopping the run: %s", state)
            self.stopping.set()
            return False
        log.info("retrying: %s", state)
        return not self.stopping.wait(self.backoff.delay(retries - 1))

    def _succeeded(self, part: Sequence[Entry], tally: _Tally) -> None:
        if not part:
            return
        tally.succeeded += len(part)
        self.stats.add(records_succeeded=len(part))
        if part[-1].created is not None:
            self.stats.last_record_time = part[-1].created

    def _drop_expired(
        self, shard_id: str, batch: Sequence[Entry], lo: int, hi: int, invokes: int, tally: _Tally
    ) -> int:
        age = self.mapping.maximum_record_age_in_seconds
        if age == -1:
            return lo
        oldest_allowed = self.clock() - age
        keep = lo
        while keep < hi:
            created = batch[keep].created
            if created is None or created >= oldest_allowed:
                break
            keep += 1
        if keep > lo:
            self._discard(shard_id, batch[lo:keep], invokes, None, None, tally, age=True)
        return keep

    def _discard(
        self,
        shard_id: str,
        part: Sequence[Entry],
        invokes: int,
        function_error: str | None,
        request_id: str | None,
        tally: _Tally,
        *,
        age: bool = False,
    ) -> None:
        condition = "RecordAgeExceeded" if age else "RetryAttemptsExhausted"
        failure = FailureRecord.of(
            part,
            shard_id=shard_id,
            stream_arn=self.stream_arn,
            function_arn=self.function.arn,
            condition=condition,
            invoke_count=invokes,
            function_error=function_error,
            request_id=request_id,
        )
        for entry in part:
            log_record_failure(
                log,
                event_id=entry.event_id,
                sequence_number=entry.sequence_number,
                item_identifier=entry.sequence_number,
                reason=f"sent to the on-failure destination ({condition}, {invokes} invocations)",
            )
        tally.failed += len(part)
        self.stats.add(records_failed=len(part))
        self.send_failure(failure)

    # -- one invocation ---------------------------------------------------------------------

    def _invoke(
        self, shard_id: str, part: Sequence[Entry], window: dict[str, Any] | None, *, first: bool
    ) -> tuple[Outcome, str]:
        """Call the handler once on a fresh copy of the event; return how it went and the
        request id. A function error is logged at WARNING, with its traceback on the ``first``
        invocation of these records."""
        function = self.function
        context = LambdaContext(
            function_name=function.name,
            timeout=function.timeout,
            region=function.region,
            account_id=function.account_id,
        )
        self.stats.add(invocations=1)
        response, error = self.sandbox.call(
            self.handler, handed_event(part, window, first=first), context, function.timeout
        )
        if error is not None:
            self.stats.add(function_errors=1)
            head, tail = (part[0], part[-1]) if part else (None, None)
            log.warning(
                "shard %s: function error on %d record(s), SequenceNumber %s..%s (eventID %s): %s",
                shard_id,
                len(part),
                head and head.sequence_number,
                tail and tail.sequence_number,
                head and head.event_id,
                _summary(error),
                exc_info=error if first and error.__traceback__ is not None else None,
                extra={
                    "event_id": head and head.event_id,
                    "sequence_number": head and head.sequence_number,
                },
            )
            return Outcome("function_error", error=_summary(error)), context.aws_request_id
        outcome = read_response(
            response or "null",
            [e.sequence_number for e in part],
            report_failures=self.mapping.report_batch_item_failures,
            windowed=window is not None,
        )
        if outcome.kind == "reported_failure":
            self.stats.add(partial_failures=1)
        return outcome, context.aws_request_id
