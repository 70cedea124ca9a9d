"""boto3 GetRecords output becomes exactly the record Lambda delivers."""

from __future__ import annotations

import datetime as dt

import pytest

from ddbstream import DecodeError, StreamEvent
from ddbstream._shapes import (
    TTL_USER_IDENTITY,
    lambda_record_from_get_records,
    region_from_arn,
    table_name_from_arn,
)

ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/Orders/stream/2026-11-22T17:09:30.610"


def boto3_record(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "eventID": "e1",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc),
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {
                "pk": {"S": "a"},
                "blob": {"B": b"\x00\xff"},
                "blobs": {"BS": [b"a", b"b"]},
                "doc": {"M": {"inner": {"L": [{"B": b"hi"}, {}]}, "empty": {}}},
            },
            "OldImage": {"pk": {"S": "a"}},
            "SequenceNumber": "000000000000000000007",
            "SizeBytes": 42,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record.update(overrides)
    return record


def test_converts_boto3_types_to_lambda_json() -> None:
    out = lambda_record_from_get_records(boto3_record(), ARN)
    assert list(out) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    ddb = out["dynamodb"]
    assert ddb["ApproximateCreationDateTime"] == 1717977600.0
    assert isinstance(ddb["ApproximateCreationDateTime"], float)
    assert ddb["NewImage"]["blob"] == {"B": "AP8="}
    assert ddb["NewImage"]["blobs"] == {"BS": ["YQ==", "Yg=="]}
    assert ddb["NewImage"]["doc"] == {
        "M": {"inner": {"L": [{"B": "aGk="}, {"M": {}}]}, "empty": {"M": {}}}
    }
    assert out["eventSourceARN"] == ARN
    record = StreamEvent.from_lambda({"Records": [out]}).records[0]
    assert record.new_image is not None
    assert record.new_image["doc"] == {"inner": [b"hi", {}], "empty": {}}


def test_dynamodb_local_ttl_record_becomes_a_service_remove() -> None:
    raw = boto3_record(eventName="UNKNOWN_TO_SDK_VERSION")
    del raw["dynamodb"]["NewImage"]  # type: ignore[attr-defined]
    out = lambda_record_from_get_records(raw, ARN)
    assert out["eventName"] == "REMOVE"
    assert out["userIdentity"] == dict(TTL_USER_IDENTITY)
    assert StreamEvent.from_lambda({"Records": [out]}).records[0].is_ttl_delete


def test_model_casing_of_user_identity_is_lowered() -> None:
    raw = boto3_record(
        eventName="REMOVE",
        userIdentity={"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"},
    )
    out = lambda_record_from_get_records(raw, ARN, region="eu-west-1")
    assert out["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert out["awsRegion"] == "eu-west-1"


@pytest.mark.parametrize("bad", [{}, {"dynamodb": "x"}, {"dynamodb": {}, "eventName": 3}, "x"])
def test_malformed_records_raise_decode_error(bad: object) -> None:
    with pytest.raises(DecodeError):
        lambda_record_from_get_records(bad, ARN)  # type: ignore[arg-type]


def test_arn_helpers() -> None:
    assert table_name_from_arn(ARN) == "Orders"
    assert region_from_arn(ARN) == "ddblocal"
    assert table_name_from_arn("nonsense") is None
    assert region_from_arn("nonsense") is None
