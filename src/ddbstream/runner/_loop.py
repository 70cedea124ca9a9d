"""The run loop: one worker thread per readable shard, shard discovery, idle detection.

A worker reads its shard in batches (``gather``), turns records into Lambda's shape, hands them
to the :class:`~ddbstream.runner._invoke.Invoker` and checkpoints after each batch; the main
loop starts workers for shards whose parents are done, looks for new shards, and decides when
an ``until_idle`` run is over.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import DDBStreamError
from .._shapes import lambda_record_from_get_records
from ._checkpoint import CheckpointStore
from ._invoke import Invoker
from ._shards import Shard, ShardReader, ShardTracker, describe_stream
from ._windows import WindowKeeper

if TYPE_CHECKING:
    from ._runner import Runner

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
            self.loop.runner._stopping.set()
        finally:
            self.loop.wake.set()

    def _run(self) -> None:
        loop, reader, shard_id = self.loop, self.reader, self.shard.shard_id
        stopping = loop.runner._stopping
        while not stopping.is_set():
            before = reader.trimmed
            raw = loop.gather(reader)
            if reader.trimmed != before:
                loop.invoker.stats.add(trimmed=reader.trimmed - before)
            if raw:
                self.empty_rounds = 0
                records = [
                    lambda_record_from_get_records(
                        r, loop.stream_arn, region=loop.runner.aws_region
                    )
                    for r in raw
                ]
                loop.invoker.stats.add(records_read=len(records))
                if not loop.invoker.process(shard_id, records):
                    return
                last = records[-1]["dynamodb"]["SequenceNumber"]
                loop.store.save(loop.stream_arn, shard_id, last)
                continue
            windows = loop.windows
            if windows is not None and not windows.close_expired(
                loop.invoker, shard_id, force=reader.ended
            ):
                return
            if reader.ended:
                loop.store.save(loop.stream_arn, shard_id, None, finished=True)
                self.finished = True
                return
            self.empty_rounds += 1
            stopping.wait(loop.runner.poll_interval)


class Loop:
    """The main loop: shard discovery, one worker per ready shard, idle detection."""

    def __init__(
        self,
        runner: Runner,
        stream_arn: str,
        store: CheckpointStore,
        tracker: ShardTracker,
        invoker: Invoker,
        windows: WindowKeeper | None,
        initial: set[str],
    ) -> None:
        self.runner = runner
        self.stream_arn = stream_arn
        self.store = store
        self.tracker = tracker
        self.invoker = invoker
        self.windows = windows
        self.initial = initial
        self.workers: dict[str, _Worker] = {}
        self.wake = threading.Event()

    def gather(self, reader: ShardReader) -> list[Mapping[str, Any]]:
        """Records for the next invocations: up to BatchSize x ParallelizationFactor, reading
        several pages if needed, for at most MaximumBatchingWindowInSeconds."""
        mapping, stopping = self.runner.mapping, self.runner._stopping
        target = mapping.batch_size * mapping.parallelization_factor
        window = mapping.maximum_batching_window_in_seconds
        deadline = time.monotonic() + window
        records: list[Mapping[str, Any]] = []
        while len(records) < target and not reader.ended and not stopping.is_set():
            want = min(1000, target - len(records))
            page = reader.read(want)
            records.extend(page)
            if len(page) == want:
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            stopping.wait(min(self.runner.poll_interval, left))
        return records

    def _start(self, shard: Shard) -> None:
        after = self.store.sequence_number(self.stream_arn, shard.shard_id)
        position = "TRIM_HORIZON"
        if shard.shard_id in self.initial and self.runner.mapping.starting_position == "LATEST":
            position = "LATEST"
            if shard.closed:  # LATEST of a closed shard is its end: nothing to read
                self.store.save(self.stream_arn, shard.shard_id, None, finished=True)
                self.tracker.finish(shard.shard_id)
                return
        reader = ShardReader(
            self.runner._streams, self.stream_arn, shard, after=after, starting_position=position
        )
        worker = self.workers[shard.shard_id] = _Worker(self, shard, reader)
        worker.start()

    def run(self, *, until_idle: bool) -> None:
        runner, tracker = self.runner, self.tracker
        last_describe = time.monotonic()
        while not runner._stopping.is_set():
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
            if ended or time.monotonic() - last_describe >= runner.discovery_interval:
                status, shards = describe_stream(runner._streams, self.stream_arn)
                tracker.update(status, shards)
                last_describe = time.monotonic()
                continue
            if tracker.done:
                return
            if runner.on_status is not None:
                runner.on_status(runner.stats)
            if until_idle and self._idle():
                return
            self.wake.wait(runner.poll_interval)
            self.wake.clear()

    def _idle(self) -> bool:
        if any(s.shard_id not in self.workers for s in self.tracker.ready()):
            return False
        return all(w.empty_rounds >= 2 for w in self.workers.values())

    def join(self) -> None:
        errors = []
        for worker in self.workers.values():
            worker.join()
            if worker.error is not None:
                errors.append(worker.error)
        if errors and not isinstance(errors[0], DDBStreamError):
            log.error("a shard worker failed: %r", errors[0])
