"""What every ``ddbstream`` subcommand shares: the user-mistake exit and reading JSON arguments."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["Exit", "read_json", "read_text"]


class Exit(Exception):
    """Leave with this status after printing ``message`` (a user mistake, not a bug)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def read_text(arg: str, what: str) -> str:
    """``-`` reads stdin, an existing file is read, anything else is the JSON itself."""
    if arg == "-":
        return sys.stdin.read()
    path = Path(arg)
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Exit(f"cannot read {what} {arg}: {exc.strerror}") from None
    if arg.lstrip().startswith(("{", "[")):
        return arg
    raise Exit(f"{what} {arg!r} is neither a file nor inline JSON")


def read_json(arg: str, what: str) -> Any:
    """:func:`read_text`, parsed; invalid JSON is an :class:`Exit` naming ``what``."""
    text = read_text(arg, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Exit(f"{what} is not valid JSON: {exc}") from None
