"""CheckpointStore: survives reopening, keeps the finished flag, stores window state."""

from __future__ import annotations

from pathlib import Path

from ddbstream.runner import CheckpointStore


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
