"""Checkpoints of the runner in SQLite: per stream and shard, the last processed sequence number.

A restart with the same file resumes right after the last processed record of every shard,
skips shards already read to their end, and carries tumbling-window state across restarts.
The default path ``":memory:"`` keeps everything in the process (a new run starts over).

The file is checked when it is opened: a file that is not SQLite, is truncated, or holds
another program's tables is refused with a :class:`~ddbstream.UsageError` that says how to
recover, never a raw ``sqlite3`` error, and never a silent start from scratch. Files written by
ddbstream carry SQLite's ``application_id`` so they are recognised.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from .._errors import UsageError

__all__ = ["CheckpointStore"]

#: ``PRAGMA application_id`` of a ddbstream checkpoint file ("ddbs").
APPLICATION_ID = 0x64646273

_TABLES = {
    "checkpoints": ["stream_arn", "shard_id", "sequence_number", "finished"],
    "windows": ["stream_arn", "shard_id", "window_start", "state"],
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    stream_arn TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    sequence_number TEXT,
    finished INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream_arn, shard_id)
);
CREATE TABLE IF NOT EXISTS windows (
    stream_arn TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    window_start REAL NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (stream_arn, shard_id)
);
"""


class CheckpointStore:
    """Where the runner remembers how far it got; a SQLite file or ``":memory:"``.

    Args:
        path: the SQLite file (created when missing) or ``":memory:"``.

    Raises:
        UsageError: the file is not a ddbstream checkpoint database (garbage, truncated,
            another program's tables) or cannot be opened; the message says how to recover.

    Example:
        >>> store = CheckpointStore(":memory:")
        >>> store.save("arn", "shard-1", "000000000000000000007")
        >>> store.sequence_number("arn", "shard-1")
        '000000000000000000007'
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if os.path.isdir(self.path):
            raise UsageError(f"checkpoint file {self.path} is a directory; pass a file path")
        with self._errors("opening"):
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._check_and_create(self._db)

    def __repr__(self) -> str:
        return f"CheckpointStore({self.path!r})"

    def _recovery(self) -> str:
        return (
            f"move {self.path} away or delete it to start every stream over from its starting "
            "position (records are then processed again), or pass another checkpoint file"
        )

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            if self._db is not None and doing == "opening":
                self._db.close()
            raise UsageError(
                f"checkpoint file {self.path}: {doing} failed ({exc}); {self._recovery()}"
            ) from exc

    def _refuse(self, why: str) -> UsageError:
        if self._db is not None:
            self._db.close()
        return UsageError(
            f"checkpoint file {self.path} {why}, so it is not a ddbstream checkpoint database; "
            f"{self._recovery()}"
        )

    def _check_and_create(self, db: sqlite3.Connection) -> None:
        (quick,) = db.execute("PRAGMA quick_check").fetchone()
        if quick != "ok":
            raise self._refuse(f"is damaged (SQLite reports: {quick})")
        (app,) = db.execute("PRAGMA application_id").fetchone()
        tables = {
            name: [column[1] for column in db.execute(f"PRAGMA table_info({name!r})")]
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if app not in (0, APPLICATION_ID):
            raise self._refuse(f"belongs to another program (SQLite application_id {app:#x})")
        if tables and tables != _TABLES:
            found = "; ".join(f"{name}({', '.join(cols)})" for name, cols in sorted(tables.items()))
            raise self._refuse(f"holds other tables: {found:.300}")
        db.executescript(_SCHEMA)
        if app == 0:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def _execute(self, doing: str, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock, self._errors(doing):
            if self._db is None:
                raise UsageError(f"checkpoint file {self.path} is closed")
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def sequence_number(self, stream_arn: str, shard_id: str) -> str | None:
        """The last processed sequence number of a shard, or None.

        Raises:
            UsageError: the stored value is not a sequence number (a damaged file).
        """
        rows = self._execute(
            "reading",
            "SELECT sequence_number FROM checkpoints WHERE stream_arn=? AND shard_id=?",
            (stream_arn, shard_id),
        )
        value = rows[0][0] if rows else None
        if value is not None and not (isinstance(value, str) and value.isdigit()):
            raise UsageError(
                f"checkpoint file {self.path} holds {value!r:.60} for shard {shard_id} of "
                f"stream {stream_arn}, which is not a SequenceNumber; {self._recovery()}"
            )
        return value

    def finished_shards(self, stream_arn: str) -> set[str]:
        """Shards of the stream read to their end and fully processed."""
        rows = self._execute(
            "reading",
            "SELECT shard_id FROM checkpoints WHERE stream_arn=? AND finished=1",
            (stream_arn,),
        )
        return {str(r[0]) for r in rows}

    def known(self, stream_arn: str) -> bool:
        """True when the stream has any checkpoint (the run is a restart)."""
        rows = self._execute(
            "reading", "SELECT 1 FROM checkpoints WHERE stream_arn=? LIMIT 1", (stream_arn,)
        )
        return bool(rows)

    def save(
        self, stream_arn: str, shard_id: str, sequence_number: str | None, *, finished: bool = False
    ) -> None:
        """Record the last processed sequence number (and whether the shard is finished)."""
        self._execute(
            "writing",
            "INSERT INTO checkpoints (stream_arn, shard_id, sequence_number, finished) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (stream_arn, shard_id) DO UPDATE SET "
            "sequence_number=COALESCE(excluded.sequence_number, sequence_number), "
            "finished=MAX(finished, excluded.finished)",
            (stream_arn, shard_id, sequence_number, int(finished)),
        )

    def forget(self, stream_arn: str) -> None:
        """Drop every checkpoint and window of a stream: the next run starts it over.

        Example:
            >>> store = CheckpointStore()
            >>> store.save("arn", "shard-1", "000000000000000000007")
            >>> store.forget("arn")
            >>> store.known("arn")
            False
        """
        self._execute("writing", "DELETE FROM checkpoints WHERE stream_arn=?", (stream_arn,))
        self._execute("writing", "DELETE FROM windows WHERE stream_arn=?", (stream_arn,))

    def window(self, stream_arn: str, shard_id: str) -> tuple[float, dict[str, Any]] | None:
        """The open tumbling window of a shard: (start epoch seconds, state), or None.

        Raises:
            UsageError: the stored window is damaged.
        """
        rows = self._execute(
            "reading",
            "SELECT window_start, state FROM windows WHERE stream_arn=? AND shard_id=?",
            (stream_arn, shard_id),
        )
        if not rows:
            return None
        try:
            start, state = float(rows[0][0]), json.loads(rows[0][1])
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"checkpoint file {self.path}: the window state of shard {shard_id} is damaged "
                f"({exc}); {self._recovery()}"
            ) from None
        if not isinstance(state, dict):
            raise UsageError(
                f"checkpoint file {self.path}: the window state of shard {shard_id} is not an "
                f"object; {self._recovery()}"
            )
        return start, state

    def save_window(
        self, stream_arn: str, shard_id: str, start: float | None, state: dict[str, Any] | None
    ) -> None:
        """Store (or with ``start=None`` drop) the open tumbling window of a shard."""
        if start is None:
            self._execute(
                "writing",
                "DELETE FROM windows WHERE stream_arn=? AND shard_id=?",
                (stream_arn, shard_id),
            )
            return
        self._execute(
            "writing",
            "INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?)",
            (stream_arn, shard_id, start, json.dumps(state or {})),
        )
