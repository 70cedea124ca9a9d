"""Shard logic on a small fake ``dynamodbstreams`` client: paging, lineage, new shards,
expired iterators, trimmed data and throttling, which DynamoDB Local cannot produce on demand.
The fake checks our ordering and recovery logic, not claims about DynamoDB."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import DDBStreamError
from ddbstream.runner._shards import (
    Backoff,
    Shard,
    ShardReader,
    ShardTracker,
    describe_stream,
    order_lineage,
)

from ._support import ARN, FakeStreams

FAST = Backoff(base=0.0, cap=0.0, max_attempts=4)


def read_all(reader: ShardReader, limit: int = 1000) -> list[str]:
    out: list[str] = []
    for _ in range(50):
        out += [r["dynamodb"]["SequenceNumber"] for r in reader.read(limit)]
        if reader.ended:
            break
    return out


# -- lineage -----------------------------------------------------------------------------------


def test_order_lineage_parents_first() -> None:
    shards = [
        Shard("c1", "b", "30"),
        Shard("b", "a", "20"),
        Shard("a", None, "10"),
        Shard("c2", "b", "31"),
        Shard("z", "trimmed-parent", "5"),
    ]
    assert [s.shard_id for s in order_lineage(shards)] == ["z", "a", "b", "c1", "c2"]


@st.composite
def forests(draw: st.DrawFn) -> list[Shard]:
    n = draw(st.integers(1, 25))
    shards = []
    for i in range(n):
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1) if i else st.none(), st.just(-1)))
        pid = None if parent is None else ("gone" if parent == -1 else f"s{parent}")
        shards.append(Shard(f"s{i}", pid, str(draw(st.integers(0, 10**25)))))
    return draw(st.permutations(shards))


@given(forests())
def test_order_lineage_property(shards: list[Shard]) -> None:
    ordered = order_lineage(shards)
    assert sorted(s.shard_id for s in ordered) == sorted(s.shard_id for s in shards)
    position = {s.shard_id: i for i, s in enumerate(ordered)}
    for shard in shards:
        if shard.parent_shard_id in position:
            assert position[shard.parent_shard_id] < position[shard.shard_id]


def test_tracker_releases_children_when_parent_finishes() -> None:
    tracker = ShardTracker()
    new = tracker.update("ENABLED", [Shard("b", "a"), Shard("a")])
    assert [s.shard_id for s in new] == ["a", "b"]
    assert [s.shard_id for s in tracker.ready()] == ["a"]
    tracker.finish("a")
    assert [s.shard_id for s in tracker.ready()] == ["b"]
    assert (
        tracker.update("ENABLED", [Shard("a"), Shard("b", "a"), Shard("c", "b")])[0].shard_id == "c"
    )
    assert not tracker.done
    tracker.finish("b")
    tracker.finish("c")
    tracker.update("DISABLED", list(tracker.shards.values()))
    assert tracker.done


def test_tracker_resumes_with_finished_shards() -> None:
    tracker = ShardTracker(finished={"a"})
    tracker.update("ENABLED", [Shard("a"), Shard("b", "a")])
    assert [s.shard_id for s in tracker.ready()] == ["b"]


# -- DescribeStream paging ----------------------------------------------------------------------


def test_describe_stream_pages_until_no_last_evaluated_shard() -> None:
    fake = FakeStreams({f"s{i}": [] for i in range(5)})
    status, shards = describe_stream(fake, ARN)
    assert status == "ENABLED"
    assert [s.shard_id for s in shards] == ["s0", "s1", "s2", "s3", "s4"]
    starts = [kw.get("ExclusiveStartShardId") for op, kw in fake.calls]
    assert starts == [None, "s1", "s3"]
    assert all(kw["Limit"] == 100 for _, kw in fake.calls)


def test_describe_stream_retries_throttling() -> None:
    fake = FakeStreams({"s0": []})
    fake.errors["DescribeStream"] = ["LimitExceededException", "ThrottlingException"]
    assert [s.shard_id for s in describe_stream(fake, ARN, backoff=FAST)[1]] == ["s0"]


# -- reading ------------------------------------------------------------------------------------


def test_reader_reads_to_shard_end() -> None:
    fake = FakeStreams({"s": ["1", "2", "3"]})
    fake.closed.add("s")
    reader = ShardReader(fake, ARN, Shard("s"), backoff=FAST)
    assert read_all(reader, 2) == ["1", "2", "3"]
    assert reader.ended


def test_reader_resumes_after_checkpoint() -> None:
    fake = FakeStreams({"s": ["1", "2", "3"]})
    reader = ShardReader(fake, ARN, Shard("s"), after="2", backoff=FAST)
    assert reader.read() == [
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "3", "Keys": {}}}
    ]
    kinds = [kw["ShardIteratorType"] for op, kw in fake.calls if op == "get_shard_iterator"]
    assert kinds == ["AFTER_SEQUENCE_NUMBER"]


def test_latest_reads_only_new_records() -> None:
    fake = FakeStreams({"s": ["1", "2"]})
    reader = ShardReader(fake, ARN, Shard("s"), starting_position="LATEST", backoff=FAST)
    assert reader.read() == []
    fake.records["s"].append("3")
    assert [r["dynamodb"]["SequenceNumber"] for r in reader.read()] == ["3"]


def test_expired_iterator_resumes_after_last_record_read() -> None:
    fake = FakeStreams({"s": ["1", "2", "3", "4"]})
    reader = ShardReader(fake, ARN, Shard("s"), backoff=FAST)
    assert [r["dynamodb"]["SequenceNumber"] for r in reader.read(2)] == ["1", "2"]
    fake.errors["GetRecords"] = ["ExpiredIteratorException"]
    assert [r["dynamodb"]["SequenceNumber"] for r in reader.read(2)] == ["3", "4"]
    last = [kw for op, kw in fake.calls if op == "get_shard_iterator"][-1]
    assert last["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
    assert last["SequenceNumber"] == "2"


def test_trimmed_data_restarts_at_trim_horizon_and_is_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeStreams({"s": ["1", "2", "3", "4", "5"]})
    fake.trim_before["s"] = 3
    reader = ShardReader(fake, ARN, Shard("s"), after="1", backoff=FAST)
    assert [r["dynamodb"]["SequenceNumber"] for r in reader.read()] == ["4", "5"]
    assert reader.trimmed == 1
    assert "trimmed" in caplog.text


def test_trimmed_while_reading() -> None:
    fake = FakeStreams({"s": ["1", "2", "3", "4"]})
    reader = ShardReader(fake, ARN, Shard("s"), backoff=FAST)
    assert len(reader.read(1)) == 1
    fake.trim_before["s"] = 2
    assert [r["dynamodb"]["SequenceNumber"] for r in reader.read()] == ["3", "4"]
    assert reader.trimmed == 1


@pytest.mark.parametrize(
    "code",
    [
        "LimitExceededException",
        "ThrottlingException",
        "InternalServerError",
        "ProvisionedThroughputExceededException",
    ],
)
def test_throttling_and_service_errors_are_retried(code: str) -> None:
    fake = FakeStreams({"s": ["1"]})
    fake.errors["GetRecords"] = [code, code]
    slept: list[float] = []
    reader = ShardReader(
        fake, ARN, Shard("s"), backoff=Backoff(base=0.05, max_attempts=5), sleep=slept.append
    )
    assert len(reader.read()) == 1
    assert len(slept) == 2
    assert 0.04 <= slept[0] <= 0.06
    assert 0.08 <= slept[1] <= 0.12


def test_backoff_gives_up_after_max_attempts() -> None:
    fake = FakeStreams({"s": ["1"]})
    fake.errors["GetRecords"] = ["ThrottlingException"] * 10
    reader = ShardReader(fake, ARN, Shard("s"), backoff=FAST)
    with pytest.raises(DDBStreamError, match="GetRecords still fails after 4 attempts"):
        reader.read()


@given(st.integers(0, 40))
def test_backoff_delay_is_capped_and_jittered(attempt: int) -> None:
    backoff = Backoff(base=0.05, cap=1.0, jitter=0.2)
    assert 0.0 <= backoff.delay(attempt) <= 1.2
    assert backoff.delay(attempt) >= min(1.0, 0.05 * 2**attempt) * 0.8 - 1e-9


def test_missing_shard_counts_as_ended() -> None:
    fake = FakeStreams({"s": ["1"]})
    fake.errors["GetShardIterator"] = ["ResourceNotFoundException"]
    reader = ShardReader(fake, ARN, Shard("s"), backoff=FAST)
    assert reader.read() == []
    assert reader.ended


def test_other_errors_propagate() -> None:
    fake = FakeStreams({"s": ["1"]})
    fake.errors["GetRecords"] = ["AccessDeniedException"]
    reader = ShardReader(fake, ARN, Shard("s"), backoff=FAST)
    with pytest.raises(ClientError):
        reader.read()
