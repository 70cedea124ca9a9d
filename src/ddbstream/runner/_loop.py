"""The run loop: one worker thread per readable shard, shard discovery, idle detection.

A worker reads its shard in batches (``gather``), turns records into Lambda's shape, hands them
to the :class:`~ddbstream.runner._invoke.Invoker` and checkpoints after each batch; the main
loop starts workers for shards whose parents are done (checking a stored checkpoint against
the shard first), looks for new shards, and decides when an ``until_idle`` run is over. It is
given values (settings, clients, stats, a stop event), never the Runner.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import DDBStreamError, UsageError
from .._shapes import lambda_record_from_get_records
from ._checkpoint import CheckpointStore
from ._config import LoopSettings
from ._context import RunnerStats
from ._invoke import Invoker
from ._shards import Shard, ShardReader, ShardTracker, describe_stream

__all__ = ["Loop"]

log = logging.getLogger("ddbstream.runner")


class _Worker(threading.Thread):
    """Reads one shard to its end (or until stopped), invoking and checkpointing."""

    def __init__(self, loop: Loop, shard: Shard, reader: ShardReader) -> None:
        super().__init__(name=f"ddbstream-{shard.shard_id}", daemon=True)
        self.loop = loop
        self.shard = shard
        self.reader = reader
        self.empty_rounds = 0
        self.finished = False
        self.error: BaseException | None = None

    def run(self) -> None:
        # SIGINT/SIGTERM go to the main thread, which stops the run at once
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            self._run()
        except BaseException as exc:  # reported by the main loop
            self.error = exc
            self.loop.stopping.set()
        finally:
            self.loop.wake.set()

    def _run(self) -> None:
        loop, reader, shard_id = self.loop, self.reader, self.shard.shard_id
        while not loop.stopping.is_set():
            before = reader.trimmed
            raw = loop.gather(reader)
            if reader.trimmed != before:
                loop.stats.add(trimmed=reader.trimmed - before)
            if raw:
                self.empty_rounds = 0
                records = [
                    lambda_record_from_get_records(
                        r, loop.stream_arn, region=loop.settings.aws_region
                    )
                    for r in raw
                ]
                last = str(records[-1]["dynamodb"]["SequenceNumber"])
                loop.stats.add(records_read=len(records))
                if not loop.invoker.process(shard_id, records, owned=True):
                    return
                loop.store.save(loop.stream_arn, shard_id, last)
                continue
            if not loop.invoker.close_expired_window(shard_id, force=reader.ended):
                return
            if reader.ended:
                loop.store.save(loop.stream_arn, shard_id, None, finished=True)
                self.finished = True
                return
            self.empty_rounds += 1
            loop.stopping.wait(loop.settings.poll_interval)


class Loop:
    """The main loop: shard discovery, one worker per ready shard, idle detection.

    Args:
        settings: what the loop needs to know of the run's settings.
        streams: the ``dynamodbstreams`` client.
        stream_arn: the stream.
        store: checkpoints.
        tracker: the shards known so far, and which are finished.
        invoker: delivers each gathered batch.
        stats: the run's counters (passed to ``on_status``).
        stopping: set to stop the run (by a signal, :meth:`Runner.stop`, a failed worker or a
            record stuck past its bound).
        initial: shards present when a first run (no checkpoint) started: those read from
            ``LATEST`` when the mapping says so.
        on_status: called with the stats about every ``poll_interval``.
    """

    def __init__(
        self,
        settings: LoopSettings,
        *,
        streams: Any,
        stream_arn: str,
        store: CheckpointStore,
        tracker: ShardTracker,
        invoker: Invoker,
        stats: RunnerStats,
        stopping: threading.Event,
        initial: set[str],
        on_status: Callable[[RunnerStats], object] | None = None,
    ) -> None:
        self.settings = settings
        self.streams = streams
        self.stream_arn = stream_arn
        self.store = store
        self.tracker = tracker
        self.invoker = invoker
        self.stats = stats
        self.stopping = stopping
        self.initial = initial
        self.on_status = on_status
        self.workers: dict[str, _Worker] = {}
        self.wake = threading.Event()

    def gather(self, reader: ShardReader) -> list[Mapping[str, Any]]:
        """Records for the next invocations: up to BatchSize x ParallelizationFactor, reading
        several pages if needed, for at most MaximumBatchingWindowInSeconds."""
        mapping = self.settings.mapping
        target = mapping.batch_size * mapping.parallelization_factor
        deadline = time.monotonic() + mapping.maximum_batching_window_in_seconds
        records: list[Mapping[str, Any]] = []
        while len(records) < target and not reader.ended and not self.stopping.is_set():
            want = min(1000, target - len(records))
            page = reader.read(want)
            records.extend(page)
            if len(page) == want:
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.stopping.wait(min(self.settings.poll_interval, left))
        return records

    def _start(self, shard: Shard) -> None:
        after = self.store.sequence_number(self.stream_arn, shard.shard_id)
        position = "TRIM_HORIZON"
        if shard.shard_id in self.initial and self.settings.mapping.starting_position == "LATEST":
            position = "LATEST"
            if shard.closed:  # LATEST of a closed shard is its end: nothing to read
                self.store.save(self.stream_arn, shard.shard_id, None, finished=True)
                self.tracker.finish(shard.shard_id)
                return
        reader = ShardReader(
            self.streams, self.stream_arn, shard, after=after, starting_position=position
        )
        if after is not None:
            problem = reader.check_checkpoint(after)
            if problem is not None:
                raise UsageError(
                    f"checkpoint file {self.store.path} says shard {shard.shard_id} of stream "
                    f"{self.stream_arn} was processed up to SequenceNumber {after}, but {problem}: "
                    "the file belongs to another stream or to an earlier DynamoDB Local server "
                    "(which numbers records from 1 again). To recover, run again with "
                    "--reset-checkpoint (Runner(reset_checkpoint=True)) to read this stream "
                    f"from its starting position, or delete {self.store.path}"
                )
        worker = self.workers[shard.shard_id] = _Worker(self, shard, reader)
        worker.start()

    def run(self, *, until_idle: bool) -> None:
        """Start workers, discover shards, report status; return when stopped, when the
        stream is disabled and read to its end, or (``until_idle``) once every shard is read.

        Raises:
            the first error of a worker (the others stop after their batch in flight).
        """
        tracker, settings = self.tracker, self.settings
        last_describe = time.monotonic()
        while not self.stopping.is_set():
            for shard in tracker.ready():
                if shard.shard_id not in self.workers:
                    self._start(shard)
            ended = False
            for shard_id, worker in list(self.workers.items()):
                if worker.is_alive():
                    continue
                worker.join()
                if worker.error is not None:
                    raise worker.error
                if worker.finished:
                    tracker.finish(shard_id)
                    del self.workers[shard_id]
                    ended = True
            if ended or time.monotonic() - last_describe >= settings.discovery_interval:
                status, shards = describe_stream(self.streams, self.stream_arn)
                tracker.update(status, shards)
                last_describe = time.monotonic()
                continue
            if tracker.done:
                return
            if self.on_status is not None:
                self.on_status(self.stats)
            if until_idle and self._idle():
                return
            self.wake.wait(settings.poll_interval)
            self.wake.clear()

    def _idle(self) -> bool:
        if any(s.shard_id not in self.workers for s in self.tracker.ready()):
            return False
        return all(w.empty_rounds >= 2 for w in self.workers.values())

    def join(self) -> None:
        """Wait for every worker; log a worker's unexpected error (the first one is raised
        by :meth:`run`)."""
        errors = []
        for worker in self.workers.values():
            worker.join()
            if worker.error is not None:
                errors.append(worker.error)
        if errors and not isinstance(errors[0], DDBStreamError):
            log.error("a shard worker failed: %r", errors[0])
