"""``ddbstream redrive MODULE:HANDLER SOURCE...``: run what the mapping gave up on again.

SOURCE is a file of on-failure records (JSON lines, or a JSON record or list: what an SQS or SNS
destination received, or ``ddbstream run --on-failure``) or a folder of S3-shaped records (a copy
of an S3 destination, or ``ddbstream run --on-failure-dir``). Exit 0 when every record was
processed, 1 when some failed again (they go to ``--on-failure``/``--on-failure-dir``), 2 when a
range cannot be read any more (trimmed after 24 hours, stream gone) or the input is unusable.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import Exit
from ._run import (
    add_function_arguments,
    add_mapping_arguments,
    configure_logging,
    load_handler,
    mapping_from,
    on_failure_from,
)

__all__ = ["add_parser", "command"]


def add_parser(sub: Any) -> None:
    redrive = sub.add_parser(
        "redrive", help="run the records of on-failure records through MODULE:HANDLER again"
    )
    add_function_arguments(redrive)
    redrive.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="on-failure records: a file or a folder"
    )
    how = redrive.add_argument_group("redrive")
    how.add_argument(
        "--from-stream",
        action="store_true",
        help="re-read the records from the stream even when a payload was saved",
    )
    how.add_argument(
        "--skip-superseded",
        action="store_true",
        help="leave out records whose item changed again later",
    )
    add_mapping_arguments(redrive, redrive=True)


def command(args: argparse.Namespace) -> int:
    from ..runner import FailureRecord, redrive

    mapping = mapping_from(args)
    failures = [record for source in args.sources for record in FailureRecord.read(source)]
    if not failures:
        raise Exit(f"no on-failure records in {', '.join(args.sources)}")
    handler = load_handler(args.handler)
    configure_logging(sys.stderr.isatty())
    report = redrive(
        handler,
        failures,
        mapping=mapping,
        from_stream=args.from_stream,
        skip_superseded=args.skip_superseded,
        endpoint_url=args.endpoint_url,
        region=args.region,
        on_failure=on_failure_from(args),
        function_name=args.function_name,
        timeout=args.timeout,
        allow_lint_errors=args.allow_lint_errors,
    )
    for result in report.results:
        print(result)
    print(
        f"redrive: {report.reprocessed} reprocessed, {report.failed_again} failed again, "
        f"{report.superseded} superseded, {report.filtered} filtered out"
    )
    return 0 if report.ok else 1
