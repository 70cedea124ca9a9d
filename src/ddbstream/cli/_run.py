"""``ddbstream run MODULE:HANDLER``: invoke a handler on a table's stream, as Lambda does.

Also the arguments ``ddbstream redrive`` shares with it: the handler, the stream's endpoint,
the event source mapping settings and the on-failure destination.
"""

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
from typing import IO, TYPE_CHECKING, Any

from ._common import Exit, read_text
from ._filter import load

if TYPE_CHECKING:
    from ..runner import EventSourceMapping, FailureFolder, RunnerStats

__all__ = [
    "Status",
    "add_function_arguments",
    "add_mapping_arguments",
    "add_parser",
    "command",
    "configure_logging",
    "load_handler",
    "mapping_from",
    "on_failure_from",
]


def add_function_arguments(parser: Any) -> None:
    """The handler, where the stream is, and the function's context."""
    parser.add_argument(
        "handler", metavar="MODULE:HANDLER", help="e.g. app:handler or app.py:handler"
    )
    parser.add_argument("--endpoint-url", help="e.g. http://localhost:8000 for DynamoDB Local")
    parser.add_argument("--region")
    parser.add_argument("--timeout", type=float, default=3.0, help="function timeout in seconds")
    parser.add_argument("--function-name", default="ddbstream-local")


def add_mapping_arguments(parser: Any, *, redrive: bool = False) -> None:
    """The event source mapping settings (a redrive has no window, age or starting position)."""
    esm = parser.add_argument_group("event source mapping")
    esm.add_argument("--batch-size", type=int, default=100)
    esm.add_argument("--filter-criteria", metavar="FILE", help="pattern or {'Filters': [...]}")
    esm.add_argument("--allow-lint-errors", action="store_true", help="run error-linted filters")
    esm.add_argument("--report-batch-item-failures", action="store_true")
    esm.add_argument("--bisect-on-error", action="store_true")
    esm.add_argument("--max-retries", type=int, default=2 if redrive else -1, metavar="N")
    esm.add_argument("--parallelization-factor", type=int, default=1, metavar="N")
    if not redrive:
        esm.add_argument("--batching-window", type=int, default=0, metavar="S")
        esm.add_argument(
            "--starting-position", choices=["TRIM_HORIZON", "LATEST"], default="TRIM_HORIZON"
        )
        esm.add_argument("--max-record-age", type=int, default=-1, metavar="S")
        esm.add_argument("--tumbling-window", type=int, default=0, metavar="S")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--on-failure", metavar="FILE", help="JSON-lines file of on-failure records")
    out.add_argument(
        "--on-failure-dir", metavar="DIR", help="S3-shaped on-failure records, one file each"
    )


def mapping_from(args: argparse.Namespace) -> EventSourceMapping:
    """The :class:`~ddbstream.runner.EventSourceMapping` the flags describe."""
    from ..runner import EventSourceMapping

    criteria = None
    if args.filter_criteria:
        criteria = load(read_text(args.filter_criteria, "--filter-criteria"))
    return EventSourceMapping(
        batch_size=args.batch_size,
        maximum_batching_window_in_seconds=getattr(args, "batching_window", 0),
        starting_position=getattr(args, "starting_position", "TRIM_HORIZON"),
        filter_criteria=criteria,
        function_response_types=(
            ("ReportBatchItemFailures",) if args.report_batch_item_failures else ()
        ),
        bisect_batch_on_function_error=args.bisect_on_error,
        maximum_retry_attempts=args.max_retries,
        maximum_record_age_in_seconds=getattr(args, "max_record_age", -1),
        parallelization_factor=args.parallelization_factor,
        tumbling_window_in_seconds=getattr(args, "tumbling_window", 0),
    )


def on_failure_from(args: argparse.Namespace) -> str | FailureFolder | None:
    """The on-failure destination the flags name."""
    from ..runner import FailureFolder

    if args.on_failure_dir:
        return FailureFolder(args.on_failure_dir)
    return args.on_failure  # type: ignore[no-any-return]


def add_parser(sub: Any) -> None:
    run = sub.add_parser("run", help="invoke MODULE:HANDLER on a table's stream, as Lambda does")
    add_function_arguments(run)
    where = run.add_argument_group("stream")
    where.add_argument("--table", help="table name (its latest stream is read)")
    where.add_argument("--stream-arn", help="stream ARN (instead of --table)")
    add_mapping_arguments(run)
    out = run.add_argument_group("runner")
    out.add_argument("--checkpoint", metavar="FILE", default=":memory:", help="SQLite file")
    out.add_argument(
        "--reset-checkpoint", action="store_true", help="forget the stream's checkpoints first"
    )
    out.add_argument("--until-idle", action="store_true", help="stop once every shard is read")
    out.add_argument(
        "--stuck-after",
        type=int,
        default=10,
        metavar="N",
        help="with --until-idle: stop (exit 1) when a record still fails after N attempts "
        "(default 10; 0: retry as the mapping says)",
    )


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
    def line(stats: RunnerStats) -> str:
        behind = stats.behind_latest_ms
        lag = "-" if behind is None else f"{behind / 1000:.1f} s"
        retrying = ""
        if stats.records_retrying or stats.retry_attempts:
            oldest = stats.oldest_retrying_ms
            age = "" if oldest is None else f", oldest record {oldest / 1000:.0f} s old"
            retrying = (
                f", retrying {stats.records_retrying} records (attempt {stats.retry_attempts}{age})"
            )
        return (
            f"{stats.records_read} records, {stats.records_per_second:.0f}/s, behind latest "
            f"{lag}{retrying}, {stats.records_failed} failed, {stats.function_errors} function "
            "errors"
        )

    def __call__(self, stats: RunnerStats) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line(stats))
            self.stream.flush()
        else:
            logging.getLogger("ddbstream.runner").info("%s", self.line(stats))

    def done(self, stats: RunnerStats) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(
            f"done: {stats.records_read} read, {stats.records_succeeded} handled, "
            f"{stats.records_filtered} filtered out, {stats.records_failed} sent to on-failure\n"
        )
        for state in stats.stuck:
            self.stream.write(f"stuck: {state}\n")
        if stats.stuck:
            self.stream.write(
                "stopped: these records keep failing; the checkpoint stays before them. Fix the "
                "handler and run again, or set --max-retries to send them to the on-failure "
                "destination\n"
            )
        self.stream.flush()


def configure_logging(tty: bool) -> None:
    """Warnings and errors on stderr (on a terminal), INFO lines too otherwise."""
    logging.basicConfig(
        level=logging.WARNING if tty else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def command(args: argparse.Namespace) -> int:
    from ..runner import Runner

    if not args.table and not args.stream_arn:
        raise Exit("give --table NAME or --stream-arn ARN")
    if args.stuck_after < 0:
        raise Exit(f"--stuck-after {args.stuck_after} must be 0 or more")
    mapping = mapping_from(args)
    handler = load_handler(args.handler)
    status = Status(sys.stderr)
    configure_logging(status.tty)
    runner = Runner(
        handler,
        table_name=args.table,
        stream_arn=args.stream_arn,
        mapping=mapping,
        endpoint_url=args.endpoint_url,
        region=args.region,
        checkpoint=args.checkpoint,
        reset_checkpoint=args.reset_checkpoint,
        on_failure=on_failure_from(args),
        function_name=args.function_name,
        timeout=args.timeout,
        on_status=status,
        allow_lint_errors=args.allow_lint_errors,
    )
    stats = runner.run(until_idle=args.until_idle, stuck_after=args.stuck_after or None)
    status.done(stats)
    return 1 if stats.stuck else 0
