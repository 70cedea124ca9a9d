"""``ddbstream local start``: DynamoDB Local in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from .._errors import UsageError

__all__ = ["add_parser", "command"]


def add_parser(sub: Any) -> None:
    local = sub.add_parser("local", help="DynamoDB Local").add_subparsers(
        dest="local_command", required=True
    )
    start = local.add_parser("start", help="run DynamoDB Local in the foreground until Ctrl-C")
    start.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")


def command(args: argparse.Namespace) -> int:
    from ..testing import DynamoDBLocal, dynamodb_local_env

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
