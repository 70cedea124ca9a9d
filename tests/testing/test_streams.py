"""ddbstream.testing._streams: shard ordering (pure), paging and shard-end logic (fake client),
and reading real streams from DynamoDB Local in the exact Lambda shape."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import DecodeError, StreamEvent, UsageError
from ddbstream.testing import EventBuilder, LocalTable, lambda_event, order_shards, read_stream

# ---------------------------------------------------------------- order_shards (pure)


def shard(shard_id: str, parent: str | None = None, start: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ShardId": shard_id,
        "SequenceNumberRange": {"StartingSequenceNumber": f"{start:021d}"},
    }
    if parent is not None:
        out["ParentShardId"] = parent
    return out


def ids(shards: list[Mapping[str, Any]]) -> list[str]:
    return [s["ShardId"] for s in shards]


def test_children_listed_before_parent_come_after_it() -> None:
    assert ids(order_shards([shard("c", "p", 5), shard("p", None, 1)])) == ["p", "c"]


def test_split_puts_both_children_after_parent_in_sequence_order() -> None:
    listing = [shard("c2", "p", 9), shard("c1", "p", 7), shard("p", None, 1)]
    assert ids(order_shards(listing)) == ["p", "c1", "c2"]


def test_parent_missing_from_listing_counts_as_root() -> None:
    listing = [shard("c", "trimmed", 50), shard("other", None, 10)]
    assert ids(order_shards(listing)) == ["other", "c"]


def test_deep_chain_listed_backwards() -> None:
    chain = [shard(f"s{i:03d}", f"s{i - 1:03d}" if i else None, i) for i in range(300)]
    assert ids(order_shards(list(reversed(chain)))) == [f"s{i:03d}" for i in range(300)]


def test_several_roots_interleave_by_starting_sequence_number() -> None:
    listing = [
        shard("a-child", "a", 30),
        shard("b", None, 20),
        shard("a", None, 10),
        shard("b-child", "b", 25),
    ]
    assert ids(order_shards(listing)) == ["a", "b", "b-child", "a-child"]


def test_duplicate_listing_is_kept_once() -> None:
    assert ids(order_shards([shard("p"), shard("c", "p", 1), shard("p")])) == ["p", "c"]


def test_self_parent_is_a_root() -> None:
    assert ids(order_shards([shard("x", "x")])) == ["x"]


def test_cycle_raises_decode_error_naming_the_shards() -> None:
    with pytest.raises(DecodeError, match=r"cycle.*\['a', 'b'\]"):
        order_shards([shard("root"), shard("a", "b"), shard("b", "a")])


def test_shard_without_id_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="ShardId"):
        order_shards([{"ParentShardId": "x"}])


def test_missing_sequence_range_still_orders() -> None:
    assert ids(order_shards([{"ShardId": "b", "ParentShardId": "a"}, {"ShardId": "a"}])) == [
        "a",
        "b",
    ]


@st.composite
def forests(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 40))
    out = []
    for i in range(n):
        # parent: none, an earlier shard, or a trimmed (unlisted) one
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1) if i else st.none(), st.just(-1)))
        name = None if parent is None else ("gone" if parent == -1 else f"s{parent}")
        out.append(shard(f"s{i}", name, draw(st.integers(0, 10**6))))
    return draw(st.permutations(out))


@given(forests())
def test_order_is_a_permutation_with_every_parent_first(listing: list[dict[str, Any]]) -> None:
    ordered = order_shards(listing)
    assert sorted(ids(ordered)) == sorted(ids(listing))
    position = {s["ShardId"]: i for i, s in enumerate(ordered)}
    for s in listing:
        parent = s.get("ParentShardId")
        if parent in position:
            assert position[parent] < position[s["ShardId"]]
    assert ids(order_shards(list(reversed(listing)))) == ids(ordered)  # deterministic


def test_lambda_event_takes_complete_records_as_they_are() -> None:
    """The one ``lambda_event``: records as ``read_stream`` returns them (complete) are copied
    unchanged, whether passed as arguments or as one list."""
    records = [EventBuilder("T").insert({"pk": "a"}), EventBuilder("T").remove({"pk": "b"})]
    for event in (lambda_event(records), lambda_event(*records)):
        assert event == {"Records": records}
        assert all(a is not b for a, b in zip(event["Records"], records, strict=True))


# ---------------------------------------------------------------- read_stream (fake client)

ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/T/stream/2026-01-01T00:00:00.000"


def get_record(seq: int) -> dict[str, Any]:
    return {
        "eventID": f"e{seq}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "Keys": {"pk": {"S": f"k{seq}"}},
            "SequenceNumber": f"{seq:021d}",
            "SizeBytes": 5,
            "StreamViewType": "KEYS_ONLY",
        },
    }


def not_found(op: str) -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "x"}}, op)


class FakeStreams:
    """Scripted dynamodbstreams client: pages of shards, and per-shard GetRecords pages."""

    def __init__(
        self,
        shard_pages: list[list[dict[str, Any]]],
        record_pages: dict[str, list[list[dict[str, Any]] | Exception]],
        *,
        closed_end: bool = True,
    ) -> None:
        self.shard_pages = shard_pages
        self.record_pages = record_pages
        self.closed_end = closed_end
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.streams: list[dict[str, Any]] = []

    def list_streams(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("ListStreams", kw))
        return {"Streams": self.streams}

    def describe_stream(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("DescribeStream", kw))
        if kw["StreamArn"] != ARN:
            raise not_found("DescribeStream")
        page = 0
        if "ExclusiveStartShardId" in kw:
            page = int(kw["ExclusiveStartShardId"].removeprefix("page")) + 1
        out: dict[str, Any] = {"StreamArn": ARN, "Shards": self.shard_pages[page]}
        if page + 1 < len(self.shard_pages):
            out["LastEvaluatedShardId"] = f"page{page}"
        return {"StreamDescription": out}

    def get_shard_iterator(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("GetShardIterator", kw))
        assert kw["ShardIteratorType"] == "TRIM_HORIZON"
        return {"ShardIterator": f"{kw['ShardId']}|0"}

    def get_records(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("GetRecords", kw))
        assert kw["Limit"] == 1000
        shard_id, n = kw["ShardIterator"].split("|")
        pages = self.record_pages[shard_id]
        i = int(n)
        item = pages[i] if i < len(pages) else []
        if isinstance(item, Exception):
            raise item
        out: dict[str, Any] = {"Records": item}
        if i + 1 < len(pages) or not self.closed_end:
            out["NextShardIterator"] = f"{shard_id}|{i + 1}"
        return out


def closed(shard_id: str, parent: str | None = None) -> dict[str, Any]:
    s = shard(shard_id, parent)
    s["SequenceNumberRange"]["EndingSequenceNumber"] = "9" * 21
    return s


def test_describe_stream_is_paged_until_no_last_evaluated_shard_id() -> None:
    fake = FakeStreams(
        [[closed("c", "p")], [], [closed("p")]],  # an empty middle page does not end paging
        {"p": [[get_record(1)]], "c": [[get_record(2)]]},
    )
    records = read_stream(fake, stream_arn=ARN)  # type: ignore[arg-type]
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == [f"{1:021d}", f"{2:021d}"]
    describes = [kw for op, kw in fake.calls if op == "DescribeStream"]
    assert [d.get("ExclusiveStartShardId") for d in describes] == [None, "page0", "page1"]
    assert all(d["Limit"] == 100 for d in describes)


def test_closed_shard_is_read_through_empty_pages_until_the_iterator_ends() -> None:
    fake = FakeStreams([[closed("s")]], {"s": [[], [get_record(1)], [], [get_record(2)], []]})
    records = read_stream(fake, stream_arn=ARN)  # type: ignore[arg-type]
    assert [r["eventID"] for r in records] == ["e1", "e2"]


def test_open_shard_stops_at_first_empty_page_after_data() -> None:
    fake = FakeStreams(
        [[shard("s")]],
        {"s": [[], [get_record(1)], [get_record(2)], [], [get_record(3)]]},
        closed_end=False,
    )
    records = read_stream(fake, stream_arn=ARN)  # type: ignore[arg-type]
    assert [r["eventID"] for r in records] == ["e1", "e2"]


def test_open_empty_shard_gives_up_after_max_empty_polls() -> None:
    fake = FakeStreams([[shard("s")]], {"s": []}, closed_end=False)
    assert read_stream(fake, stream_arn=ARN, max_empty_polls=4) == []  # type: ignore[arg-type]
    assert sum(op == "GetRecords" for op, _ in fake.calls) == 4


def test_resource_not_found_on_a_shard_is_its_end() -> None:
    fake = FakeStreams(
        [[closed("s"), closed("t", "s")]],
        {"s": [[get_record(1)], not_found("GetRecords")], "t": [[get_record(2)]]},
    )
    records = read_stream(fake, stream_arn=ARN)  # type: ignore[arg-type]
    assert [r["eventID"] for r in records] == ["e1", "e2"]


def test_records_are_converted_to_lambda_shape_with_region_override() -> None:
    fake = FakeStreams([[closed("s")]], {"s": [[get_record(1)]]})
    (record,) = read_stream(fake, stream_arn=ARN, region="eu-west-1")  # type: ignore[arg-type]
    assert record["eventSourceARN"] == ARN
    assert record["awsRegion"] == "eu-west-1"
    assert list(record) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]


def test_table_name_resolves_to_the_latest_stream_label() -> None:
    fake = FakeStreams([[closed("s")]], {"s": [[get_record(1)]]})
    fake.streams = [
        {"StreamArn": "arn:old", "StreamLabel": "2025-01-01T00:00:00.000"},
        {"StreamArn": ARN, "StreamLabel": "2026-01-01T00:00:00.000"},
    ]
    (record,) = read_stream(fake, table_name="T")  # type: ignore[arg-type]
    assert record["eventSourceARN"] == ARN
    assert fake.calls[0] == ("ListStreams", {"TableName": "T", "Limit": 100})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"table_name": "T", "stream_arn": ARN}, "exactly one"),
        ({"stream_arn": ARN, "max_empty_polls": 0}, "max_empty_polls=0"),
        ({"stream_arn": "arn:missing"}, "does not exist"),
        ({"table_name": "NoStream"}, "has no stream"),
    ],
)
def test_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    fake = FakeStreams([[]], {})
    with pytest.raises(UsageError, match=message):
        read_stream(fake, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- on DynamoDB Local


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ITEM = {
    "pk": {"S": "order#1"},
    "blob": {"B": b"\x00\xffbinary"},
    "blobs": {"BS": [b"\x01", b"\x02\x03"]},
    "nested": {
        "M": {
            "lines": {"L": [{"M": {"sku": {"S": "A"}, "qty": {"N": "2"}}}, {"NULL": True}]},
            "flag": {"BOOL": False},
            "tags": {"SS": ["x"]},
        }
    },
    "price": {"N": "12.50"},
}
ITEM_LAMBDA = {
    "pk": {"S": "order#1"},
    "blob": {"B": b64(b"\x00\xffbinary")},
    "blobs": {"BS": [b64(b"\x01"), b64(b"\x02\x03")]},
    "nested": ITEM["nested"],
    "price": {"N": "12.5"},  # DynamoDB normalises numbers
}


def write_history(client: Any, table: LocalTable) -> None:
    client.put_item(TableName=table.name, Item=ITEM)
    client.update_item(
        TableName=table.name,
        Key={"pk": {"S": "order#1"}},
        UpdateExpression="SET price = :p REMOVE blobs",
        ExpressionAttributeValues={":p": {"N": "13"}},
    )
    client.delete_item(TableName=table.name, Key={"pk": {"S": "order#1"}})


def sorted_image(image: Mapping[str, Any]) -> dict[str, Any]:
    """Images come back in DynamoDB Local's order; compare them as dicts (order-free)."""
    return {k: image[k] for k in sorted(image)}


def test_insert_modify_remove_in_exact_lambda_shape(
    make_table: Callable[..., LocalTable], dynamodb_client: Any, dynamodbstreams_client: Any
) -> None:
    table = make_table()
    write_history(dynamodb_client, table)
    records = read_stream(dynamodbstreams_client, table_name=table.name)
    modified = {**ITEM_LAMBDA, "price": {"N": "13"}}
    del modified["blobs"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    expected_images = [
        {"NewImage": ITEM_LAMBDA},
        {"NewImage": modified, "OldImage": ITEM_LAMBDA},
        {"OldImage": modified},
    ]
    seqs = []
    for record, images in zip(records, expected_images, strict=True):
        assert list(record) == [
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN",
        ]
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "ddblocal"
        assert record["eventSourceARN"] == table.stream_arn
        ddb = record["dynamodb"]
        assert type(ddb["ApproximateCreationDateTime"]) is float
        assert abs(ddb["ApproximateCreationDateTime"] - time.time()) < 3600
        assert ddb["Keys"] == {"pk": {"S": "order#1"}}
        assert ddb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert isinstance(ddb["SizeBytes"], int)
        assert set(ddb) - {"NewImage", "OldImage"} == {
            "ApproximateCreationDateTime",
            "Keys",
            "SequenceNumber",
            "SizeBytes",
            "StreamViewType",
        }
        assert {k: sorted_image(ddb[k]) for k in ("NewImage", "OldImage") if k in ddb} == {
            k: sorted_image(v) for k, v in images.items()
        }
        seqs.append(int(ddb["SequenceNumber"]))
    assert seqs == sorted(seqs)
    json.dumps(records)  # plain JSON, like the event Lambda sends
    # and ddbstream's own record model reads it back losslessly
    event = StreamEvent.from_lambda(lambda_event(records))
    first = event.records[0]
    assert first.new_image is not None
    assert first.new_image["blob"] == b"\x00\xffbinary"
    assert first.new_image["price"] == Decimal("12.5")
    assert first.new_image["nested"]["lines"][0] == {"sku": "A", "qty": Decimal(2)}


@pytest.mark.parametrize(
    ("view", "images"),
    [
        ("KEYS_ONLY", [set(), set(), set()]),
        ("NEW_IMAGE", [{"NewImage"}, {"NewImage"}, set()]),
        ("OLD_IMAGE", [set(), {"OldImage"}, {"OldImage"}]),
        ("NEW_AND_OLD_IMAGES", [{"NewImage"}, {"NewImage", "OldImage"}, {"OldImage"}]),
    ],
)
def test_images_present_per_stream_view_type(
    make_table: Callable[..., LocalTable],
    dynamodb_client: Any,
    dynamodbstreams_client: Any,
    view: str,
    images: list[set[str]],
) -> None:
    table = make_table(stream_view_type=view)
    write_history(dynamodb_client, table)
    records = read_stream(dynamodbstreams_client, stream_arn=table.stream_arn)
    assert [set(r["dynamodb"]) & {"NewImage", "OldImage"} for r in records] == images
    assert {r["dynamodb"]["StreamViewType"] for r in records} == {view}


def test_ttl_deletion_reads_as_remove_by_the_dynamodb_service(
    make_table: Callable[..., LocalTable], dynamodb_client: Any, dynamodbstreams_client: Any
) -> None:
    table = make_table()
    dynamodb_client.update_time_to_live(
        TableName=table.name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
    )
    expired = {"pk": {"S": "gone"}, "expires": {"N": str(int(time.time()) - 60)}}
    dynamodb_client.put_item(TableName=table.name, Item=expired)
    deadline = time.monotonic() + 30  # DynamoDB Local deletes within about a second
    while "Item" in dynamodb_client.get_item(TableName=table.name, Key={"pk": {"S": "gone"}}):
        if time.monotonic() > deadline:
            pytest.skip("DynamoDB Local did not expire the item within 30 s")
        time.sleep(0.1)
    insert, ttl = read_stream(dynamodbstreams_client, table_name=table.name)
    assert insert["eventName"] == "INSERT"
    assert ttl["eventName"] == "REMOVE"
    assert ttl["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert list(ttl).index("userIdentity") == list(ttl).index("dynamodb") - 1
    assert "NewImage" not in ttl["dynamodb"]
    assert sorted_image(ttl["dynamodb"]["OldImage"]) == sorted_image(expired)
    assert StreamEvent.from_lambda(lambda_event([ttl])).records[0].is_ttl_delete


def test_closed_shard_of_a_disabled_stream_and_the_new_stream(
    make_table: Callable[..., LocalTable], dynamodb_client: Any, dynamodbstreams_client: Any
) -> None:
    table = make_table(stream_view_type="KEYS_ONLY")
    dynamodb_client.put_item(TableName=table.name, Item={"pk": {"S": "before"}})
    dynamodb_client.update_table(TableName=table.name, StreamSpecification={"StreamEnabled": False})
    shards = dynamodbstreams_client.describe_stream(StreamArn=table.stream_arn)[
        "StreamDescription"
    ]["Shards"]
    assert all("EndingSequenceNumber" in s["SequenceNumberRange"] for s in shards)
    old = read_stream(dynamodbstreams_client, stream_arn=table.stream_arn)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in old] == ["before"]
    dynamodb_client.update_table(
        TableName=table.name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    dynamodb_client.put_item(TableName=table.name, Item={"pk": {"S": "after"}})
    new = read_stream(dynamodbstreams_client, table_name=table.name)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in new] == ["after"]
    assert new[0]["eventSourceARN"] != table.stream_arn


def test_documented_script_example(dynamodb_local: Any, dynamodb_client: Any) -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples/testing/dynamodb_local_script.py"
    spec = importlib.util.spec_from_file_location("dynamodb_local_script", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    name = f"Orders-{time.time_ns()}"
    try:
        assert module.run(dynamodb_local, table_name=name) == {"inserted_total": "19.75"}
    finally:
        dynamodb_client.delete_table(TableName=name)
