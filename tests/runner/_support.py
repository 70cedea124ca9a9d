"""Synthetic Lambda-shaped records for the runner tests."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-01-01T00:00:00.000"


def rec(seq: int, pk: str = "a", *, t: float = 1_700_000_000.0, **attrs: Any) -> dict[str, Any]:
    """A Lambda-shaped INSERT record with sequence number ``seq`` (21 digits) and key ``pk``."""
    image = {"pk": {"S": pk}, **{k: {"S": str(v)} for k, v in attrs.items()}}
    return {
        "eventID": f"id{seq}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": t,
            "Keys": {"pk": {"S": pk}},
            "NewImage": image,
            "SequenceNumber": f"{seq:021d}",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }


ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x"


def _record(seq: str) -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": seq, "Keys": {"pk": {"S": seq}}}}


def err(code: str, op: str = "GetRecords") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, op)


class FakeStreams:
    """Shards with records; iterators are (shard, index); scripted errors per operation."""

    def __init__(
        self, shards: dict[str, list[str]], *, parents: dict[str, str] | None = None
    ) -> None:
        self.records = shards
        self.parents = parents or {}
        self.closed: set[str] = set()
        self.errors: dict[str, list[str]] = {}
        self.trim_before: dict[str, int] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.page_size = 2

    def _raise(self, op: str) -> None:
        queue = self.errors.get(op)
        if queue:
            raise err(queue.pop(0), op)

    def describe_stream(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("describe_stream", kw))
        self._raise("DescribeStream")
        ids = sorted(self.records)
        start = ids.index(kw["ExclusiveStartShardId"]) + 1 if "ExclusiveStartShardId" in kw else 0
        page = ids[start : start + self.page_size]
        shards = []
        for sid in page:
            shard: dict[str, Any] = {
                "ShardId": sid,
                "SequenceNumberRange": {"StartingSequenceNumber": "1"},
            }
            if sid in self.parents:
                shard["ParentShardId"] = self.parents[sid]
            if sid in self.closed:
                shard["SequenceNumberRange"]["EndingSequenceNumber"] = "9"
            shards.append(shard)
        body: dict[str, Any] = {"StreamStatus": "ENABLED", "Shards": shards}
        if start + self.page_size < len(ids):
            body["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": body}

    def get_shard_iterator(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("get_shard_iterator", kw))
        self._raise("GetShardIterator")
        sid, kind = kw["ShardId"], kw["ShardIteratorType"]
        seqs = self.records[sid]
        trim = self.trim_before.get(sid, 0)
        if kind == "TRIM_HORIZON":
            index = trim
        elif kind == "LATEST":
            index = len(seqs)
        else:
            index = seqs.index(kw["SequenceNumber"]) + (kind == "AFTER_SEQUENCE_NUMBER")
            if index < trim:
                raise err("TrimmedDataAccessException", "GetShardIterator")
        return {"ShardIterator": f"{sid}|{index}"}

    def get_records(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("get_records", kw))
        self._raise("GetRecords")
        sid, index = kw["ShardIterator"].split("|")
        i = int(index)
        if i < self.trim_before.get(sid, 0):
            raise err("TrimmedDataAccessException")
        seqs = self.records[sid][i : i + kw["Limit"]]
        out: dict[str, Any] = {
            "Records": [
                {"eventName": "INSERT", "dynamodb": {"SequenceNumber": s, "Keys": {}}} for s in seqs
            ]
        }
        end = i + len(seqs)
        if not (sid in self.closed and end >= len(self.records[sid])):
            out["NextShardIterator"] = f"{sid}|{end}"
        return out
