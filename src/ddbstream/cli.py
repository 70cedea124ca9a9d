"""The ``ddbstream`` command: run a handler on a stream, start DynamoDB Local, work with filters.

::

    ddbstream run app:handler --table Orders --endpoint-url http://localhost:8000 --until-idle
    ddbstream local start [--port 8000]
    ddbstream filter check PATTERN EVENT | lint PATTERN | export PATTERN --format sam
    ddbstream --version

A user mistake (bad module path, missing table, bad JSON, out-of-range setting) prints one
``error:`` line on stderr and exits with status 2; nothing imports this module.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from ._errors import DDBStreamError, UsageError
from ._version import __version__

__all__ = ["main"]


class _Exit(Exception):
    """Leave with this status after printing ``message`` (a user mistake, not a bug)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


# -- argument parsing -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ddbstream", description="DynamoDB Streams for AWS Lambda, on your laptop."
    )
    parser.add_argument("--version", action="version", version=f"ddbstream {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    local = sub.add_parser("local", help="DynamoDB Local").add_subparsers(
        dest="local_command", required=True
    )
    start = local.add_parser("start", help="run DynamoDB Local in the foreground until Ctrl-C")
    start.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    filt = sub.add_parser("filter", help="check, lint and export FilterCriteria patterns")
    fsub = filt.add_subparsers(dest="filter_command", required=True)
    check = fsub.add_parser("check", help="which records of an event a pattern lets through")
    check.add_argument("pattern", help="pattern or criteria: a file, inline JSON, or - (stdin)")
    check.add_argument("event", help="event or record: a file, inline JSON, or - (stdin)")
    lint = fsub.add_parser("lint", help="findings for a pattern AWS rejects or that never matches")
    lint.add_argument("pattern")
    lint.add_argument("--stream-view-type", default=None)
    export = fsub.add_parser("export", help="render a pattern for an infrastructure tool")
    export.add_argument("pattern")
    export.add_argument(
        "--format",
        required=True,
        choices=["cloudformation", "sam", "cdk", "serverless", "terraform", "json"],
    )
    return parser


def _run_parser(sub: Any) -> None:
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


# -- helpers ----------------------------------------------------------------------------------


def _text(arg: str, what: str) -> str:
    """``-`` reads stdin, an existing file is read, anything else is the JSON itself."""
    if arg == "-":
        return sys.stdin.read()
    path = Path(arg)
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _Exit(f"cannot read {what} {arg}: {exc.strerror}") from None
    if arg.lstrip().startswith(("{", "[")):
        return arg
    raise _Exit(f"{what} {arg!r} is neither a file nor inline JSON")


def _json(arg: str, what: str) -> Any:
    text = _text(arg, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Exit(f"{what} is not valid JSON: {exc}") from None


def load_handler(spec: str) -> Callable[[Any, Any], Any]:
    """Import ``module:attr`` or ``path/to/file.py:attr`` (the current directory is on the path)."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise _Exit(f"handler {spec!r} must look like MODULE:HANDLER, e.g. app:handler")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise _Exit(f"no such file: {module_name}")
            loader = importlib.util.spec_from_file_location(path.stem, path)
            if loader is None or loader.loader is None:
                raise _Exit(f"cannot import {module_name}")
            module = importlib.util.module_from_spec(loader)
            sys.modules[path.stem] = module
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except _Exit:
        raise
    except ModuleNotFoundError as exc:
        raise _Exit(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:
        raise _Exit(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    handler = getattr(module, attr, None)
    if handler is None:
        raise _Exit(f"module {module_name!r} has no attribute {attr!r}")
    if not callable(handler):
        raise _Exit(f"{spec} is not callable")
    return handler  # type: ignore[no-any-return]


class _Status:
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


# -- commands ---------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import EventSourceMapping, Runner

    if not args.table and not args.stream_arn:
        raise _Exit("give --table NAME or --stream-arn ARN")
    criteria = None
    if args.filter_criteria:
        from .filters._commands import load

        criteria = load(_text(args.filter_criteria, "--filter-criteria"))
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
    status = _Status(sys.stderr)
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


def _cmd_local(args: argparse.Namespace) -> int:
    from .testing._local import DynamoDBLocal, dynamodb_local_env

    stop = threading.Event()
    with DynamoDBLocal(port=args.port) as server:
        print(f"DynamoDB Local at {server.endpoint_url}")
        for name, value in dynamodb_local_env(server.endpoint_url).items():
            print(f"export {name}={value}")
        print("Ctrl-C stops it.", flush=True)
        try:
            while not stop.wait(0.5):
                if not server.running:
                    raise UsageError(f"DynamoDB Local stopped by itself:\n{server.log_tail()}")
        except KeyboardInterrupt:
            pass
    return 0


def _cmd_filter(args: argparse.Namespace) -> int:
    from .filters import _commands

    if args.filter_command == "check":
        status, text = _commands.check(
            _text(args.pattern, "pattern"), _json(args.event, "the event")
        )
    elif args.filter_command == "lint":
        status, text = _commands.lint_command(_text(args.pattern, "pattern"), args.stream_view_type)
    else:
        status, text = _commands.export(_text(args.pattern, "pattern"), args.format)
    if status == 2:
        raise _Exit(text.strip().removeprefix("error:").strip())
    sys.stdout.write(text)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ddbstream`` command line; returns the exit status."""
    args = _parser().parse_args(argv)
    commands = {"run": _cmd_run, "local": _cmd_local, "filter": _cmd_filter}
    try:
        return commands[args.command](args)
    except (_Exit, DDBStreamError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"ddbstream: error: {message}", file=sys.stderr)
        return exc.status if isinstance(exc, _Exit) else 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"ddbstream: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not type(exc).__module__.startswith(("botocore", "boto3")):
            raise  # a bug in ddbstream: keep the traceback
        print(f"ddbstream: error: AWS: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
