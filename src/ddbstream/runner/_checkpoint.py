"""Checkpoints of the runner in SQLite: per stream and shard, the last processed sequence number.

A restart with the same file resumes right after the last processed record of every shard,
skips shards already read to their end, and carries tumbling-window state across restarts.
The default path ``":memory:"`` keeps everything in the process (a new run starts over).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any

__all__ = ["CheckpointStore"]

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

    Example:
        >>> store = CheckpointStore(":memory:")
        >>> store.save("arn", "shard-1", "000000000000000000007")
        >>> store.sequence_number("arn", "shard-1")
        '000000000000000000007'
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"CheckpointStore({self.path!r})"

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def sequence_number(self, stream_arn: str, shard_id: str) -> str | None:
        """The last processed sequence number of a shard, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT sequence_number FROM checkpoints WHERE stream_arn=? AND shard_id=?",
                (stream_arn, shard_id),
            ).fetchone()
        return row[0] if row else None

    def finished_shards(self, stream_arn: str) -> set[str]:
        """Shards of the stream read to their end and fully processed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT shard_id FROM checkpoints WHERE stream_arn=? AND finished=1", (stream_arn,)
            ).fetchall()
        return {r[0] for r in rows}

    def known(self, stream_arn: str) -> bool:
        """True when the stream has any checkpoint (the run is a restart)."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM checkpoints WHERE stream_arn=? LIMIT 1", (stream_arn,)
            ).fetchone()
        return row is not None

    def save(
        self, stream_arn: str, shard_id: str, sequence_number: str | None, *, finished: bool = False
    ) -> None:
        """Record the last processed sequence number (and whether the shard is finished)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO checkpoints (stream_arn, shard_id, sequence_number, finished) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (stream_arn, shard_id) DO UPDATE SET "
                "sequence_number=COALESCE(excluded.sequence_number, sequence_number), "
                "finished=MAX(finished, excluded.finished)",
                (stream_arn, shard_id, sequence_number, int(finished)),
            )

    def window(self, stream_arn: str, shard_id: str) -> tuple[float, dict[str, Any]] | None:
        """The open tumbling window of a shard: (start epoch seconds, state), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT window_start, state FROM windows WHERE stream_arn=? AND shard_id=?",
                (stream_arn, shard_id),
            ).fetchone()
        return (float(row[0]), json.loads(row[1])) if row else None

    def save_window(
        self, stream_arn: str, shard_id: str, start: float | None, state: dict[str, Any] | None
    ) -> None:
        """Store (or with ``start=None`` drop) the open tumbling window of a shard."""
        with self._lock:
            if start is None:
                self._db.execute(
                    "DELETE FROM windows WHERE stream_arn=? AND shard_id=?", (stream_arn, shard_id)
                )
                return
            self._db.execute(
                "INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?)",
                (stream_arn, shard_id, start, json.dumps(state or {})),
            )
