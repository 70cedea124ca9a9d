"""``ddbstream run MODULE:HANDLER``: invoke a handler on a table's stream, as Lambda does."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ._common import Exit, read_text
from ._filter import load

__all__ = ["Status", "add_parser", "command", "load_handler"]


def add_parser(sub: Any) -> None:
    run = sub.add_parser("run", help="invoke MODULE:HANDLER on a table's stream, as Lambda does")
    run.add_argument("handler", metavar="MODULE:HANDLER", help="e.g. app:handler or app.py:handler")
    where = run.add_argument_group("stream")
    where.add_argument("--table", help="table name (its latest stream is read)")
    where.add_argument("--stream-arn", help="stream ARN (instead of --table)")
    where.add_argument("--endpoint-url", help="e.g. http://localhost:8000 for DynamoDB Local")
    where.add_argument("--region")
    esm = run.add_argument_group("event source mapping")
    esm.add_argument("--batch-size", type=int, default=100)
    esm.add_argument("--batching-window", type=int, default=0, metavar="S")
    esm.add_argument(
        "--starting-position", choices=["TRIM_HORIZON", "LATEST"], default="TRIM_HORIZON"
    )
    esm.add_argument("--filter-criteria", metavar="FILE", help="pattern or {'Filters': [...]}")
    esm.add_argument("--report-batch-item-failures", action="store_true")
    esm.add_argument("--bisect-on-error", action="store_true")
    esm.add_argument("--max-retries", type=int, default=-1, metavar="N")
    esm.add_argument("--max-record-age", type=int, default=-1, metavar="S")
    esm.add_argument("--parallelization-factor", type=int, default=1, metavar="N")
    esm.add_argument("--tumbling-window", type=int, default=0, metavar="S")
    out = run.add_argument_group("runner")
    out.add_argument("--on-failure", metavar="FILE", help="JSON-lines file of on-failure records")
    out.add_argument("--checkpoint", metavar="FILE", default=":memory:", help="SQLite file")
    out.add_argument("--timeout", type=float, default=3.0, help="function timeout in seconds")
    out.add_argument("--function-name", default="ddbstream-local")
    out.add_argument("--until-idle", action="store_true", help="stop once every shard is read")


def load_handler(spec: str) -> Callable[[Any, Any], Any]:
    """Import ``module:attr`` or ``path/to/file.py:attr`` (the current directory is on the path)."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise Exit(f"handler {spec!r} must look like MODULE:HANDLER, e.g. app:handler")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise Exit(f"no such file: {module_name}")
            loader = importlib.util.spec_from_file_location(path.stem, path)
            if loader is None or loader.loader is None:
                raise Exit(f"cannot import {module_name}")
            module = importlib.util.module_from_spec(loader)
            sys.modules[path.stem] = module
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except Exit:
        raise
    except ModuleNotFoundError as exc:
        raise Exit(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:
        raise Exit(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    handler = getattr(module, attr, None)
    if handler is None:
        raise Exit(f"module {module_name!r} has no attribute {attr!r}")
    if not callable(handler):
        raise Exit(f"{spec} is not callable")
    return handler  # type: ignore[no-any-return]


class Status:
    """A live status line on a TTY; a log line every few seconds otherwise."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0
        self.every = 0.25 if self.tty else 5.0

    @staticmethod
    def line(stats: Any) -> str:
        behind = stats.behind_latest_ms
        lag = "-" if behind is None else f"{behind / 1000:.1f} s"
        return (
            f"{stats.records_read} records, {stats.records_per_second:.0f}/s, behind latest "
            f"{lag}, {stats.records_failed} failed, {stats.function_errors} function errors"
        )

    def __call__(self, stats: Any) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line(stats))
            self.stream.flush()
        else:
            logging.getLogger("ddbstream.runner").info("%s", self.line(stats))

    def done(self, stats: Any) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(
            f"done: {stats.records_read} read, {stats.records_succeeded} handled, "
            f"{stats.records_filtered} filtered out, {stats.records_failed} sent to on-failure\n"
        )
        self.stream.flush()


def command(args: argparse.Namespace) -> int:
    from ..runner import EventSourceMapping, Runner

    if not args.table and not args.stream_arn:
        raise Exit("give --table NAME or --stream-arn ARN")
    criteria = None
    if args.filter_criteria:
        criteria = load(read_text(args.filter_criteria, "--filter-criteria"))
    mapping = EventSourceMapping(
        batch_size=args.batch_size,
        maximum_batching_window_in_seconds=args.batching_window,
        starting_position=args.starting_position,
        filter_criteria=criteria,
        function_response_types=(
            ("ReportBatchItemFailures",) if args.report_batch_item_failures else ()
        ),
        bisect_batch_on_function_error=args.bisect_on_error,
        maximum_retry_attempts=args.max_retries,
        maximum_record_age_in_seconds=args.max_record_age,
        parallelization_factor=args.parallelization_factor,
        tumbling_window_in_seconds=args.tumbling_window,
    )
    handler = load_handler(args.handler)
    status = Status(sys.stderr)
    logging.basicConfig(
        level=logging.WARNING if status.tty else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    runner = Runner(
        handler,
        table_name=args.table,
        stream_arn=args.stream_arn,
        mapping=mapping,
        endpoint_url=args.endpoint_url,
        region=args.region,
        checkpoint=args.checkpoint,
        on_failure=args.on_failure,
        function_name=args.function_name,
        timeout=args.timeout,
        on_status=status,
    )
    stats = runner.run(until_idle=args.until_idle)
    status.done(stats)
    return 0
