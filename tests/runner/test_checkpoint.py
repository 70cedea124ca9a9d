"""CheckpointStore: survives reopening, keeps the finished flag, stores window state."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ddbstream import UsageError
from ddbstream.runner import CheckpointStore
from ddbstream.runner._checkpoint import _SCHEMA, APPLICATION_ID


def test_checkpoints_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "cp.sqlite"
    store = CheckpointStore(path)
    assert not store.known("arn")
    store.save("arn", "s1", "000000000000000000005")
    store.save("arn", "s1", "000000000000000000009")
    store.save("arn", "s2", None, finished=True)
    store.save_window("arn", "s1", 120.0, {"n": 3})
    store.close()
    again = CheckpointStore(path)
    assert again.known("arn")
    assert again.sequence_number("arn", "s1") == "000000000000000000009"
    assert again.sequence_number("arn", "s2") is None
    assert again.finished_shards("arn") == {"s2"}
    assert again.window("arn", "s1") == (120.0, {"n": 3})
    assert again.sequence_number("other", "s1") is None
    assert repr(again) == f"CheckpointStore({str(path)!r})"


def test_finishing_keeps_the_sequence_number() -> None:
    store = CheckpointStore()
    store.save("arn", "s", "000000000000000000007")
    store.save("arn", "s", None, finished=True)
    store.save("arn", "s", None)  # finished never goes back
    assert store.sequence_number("arn", "s") == "000000000000000000007"
    assert store.finished_shards("arn") == {"s"}


def test_dropping_a_window() -> None:
    store = CheckpointStore()
    store.save_window("arn", "s", 60.0, {})
    store.save_window("arn", "s", None, None)
    assert store.window("arn", "s") is None


RECOVERY = "delete it to start every stream over from its starting position"


def test_garbage_truncated_and_foreign_files_are_refused_with_the_recovery(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all " * 200)
    good = tmp_path / "good.db"
    CheckpointStore(good).close()
    with sqlite3.connect(good) as db:
        rows = [("arn", f"shard-{n}", f"{n:021d}", 0) for n in range(500)]
        db.executemany("INSERT INTO checkpoints VALUES (?, ?, ?, ?)", rows)
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    other_app = tmp_path / "other.db"
    with sqlite3.connect(other_app) as db:
        db.execute("PRAGMA application_id = 1234")
        db.execute("CREATE TABLE t (x)")
    for path, why in [
        (garbage, "file is not a database"),
        (truncated, "malformed"),
        (foreign, r"holds other tables: notes\(text\)"),
        (other_app, "belongs to another program"),
        (tmp_path, "is a directory"),
    ]:
        with pytest.raises(UsageError, match=why) as info:
            CheckpointStore(path)
        assert path == tmp_path or RECOVERY in str(info.value)
        assert "\n" not in str(info.value)


def test_files_of_earlier_versions_are_taken_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA)
        db.execute("INSERT INTO checkpoints VALUES ('arn', 's', '000000000000000000003', 0)")
    store = CheckpointStore(path)
    assert store.sequence_number("arn", "s") == "000000000000000000003"
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)


def test_a_damaged_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    CheckpointStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO checkpoints VALUES ('arn', 's', 'ten', 0)")
        db.execute("INSERT INTO windows VALUES ('arn', 's', 60.0, '{broken')")
    store = CheckpointStore(path)
    with pytest.raises(UsageError, match="'ten' for shard s of stream arn, which is not"):
        store.sequence_number("arn", "s")
    with pytest.raises(UsageError, match="window state of shard s is damaged"):
        store.window("arn", "s")


def test_forget_drops_one_stream() -> None:
    store = CheckpointStore()
    store.save("arn", "s", "000000000000000000001", finished=True)
    store.save_window("arn", "s", 60.0, {"n": 1})
    store.save("other", "s", "000000000000000000002")
    store.forget("arn")
    assert (store.known("arn"), store.window("arn", "s"), store.known("other")) == (
        False,
        None,
        True,
    )
