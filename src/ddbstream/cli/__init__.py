"""The ``ddbstream`` command: run a handler on a stream, start DynamoDB Local, work with filters.

::

    ddbstream run app:handler --table Orders --endpoint-url http://localhost:8000 --until-idle
    ddbstream redrive app:handler failed.jsonl --endpoint-url http://localhost:8000
    ddbstream local start [--port 8000]
    ddbstream filter check PATTERN EVENT | lint PATTERN | export PATTERN --format sam
    ddbstream --version

A user mistake (bad module path, missing table, bad JSON, out-of-range setting) prints one
``error:`` line on stderr and exits with status 2. Each subcommand lives in its own module
(``_run``, ``_redrive``, ``_local``, ``_filter``) with an ``add_parser`` and a ``command``;
nothing in the library imports this package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from .._aws import aws_error
from .._errors import DDBStreamError
from .._version import __version__
from . import _filter, _local, _redrive, _run
from ._common import Exit

__all__ = ["main"]


class _Command(Protocol):
    def add_parser(self, sub: Any) -> None: ...
    def command(self, args: argparse.Namespace) -> int: ...


_COMMANDS: dict[str, _Command] = {
    "run": _run,
    "redrive": _redrive,
    "local": _local,
    "filter": _filter,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ddbstream", description="DynamoDB Streams for AWS Lambda, on your laptop."
    )
    parser.add_argument("--version", action="version", version=f"ddbstream {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in _COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ddbstream`` command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command].command(args)
    except (Exit, DDBStreamError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"ddbstream: error: {message}", file=sys.stderr)
        return exc.status if isinstance(exc, Exit) else 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"ddbstream: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if aws_error(exc) is None:
            raise  # a bug in ddbstream: keep the traceback
        print(f"ddbstream: error: AWS: {exc}", file=sys.stderr)
        return 2
