"""On-failure records: AWS's SQS/SNS and S3 shapes, built and parsed, and read from files and
folders (a JSON-lines file, a copy of an S3 destination)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ddbstream import DecodeError, UsageError
from ddbstream.runner import FailureRecord
from ddbstream.runner._batches import to_entries

from ._support import STREAM_ARN, rec

# the SQS message body AWS sends (event-source-mapping reference, section 2.1)
AWS_BODY: dict[str, Any] = {
    "requestContext": {
        "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "version": "1.0",
    "timestamp": "2019-11-14T00:13:49.717Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-00000001573689847184-864758bb",
        "startSequenceNumber": "800000000003126276362",
        "endSequenceNumber": "800000000003126276362",
        "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
        "batchSize": 1,
        "streamArn": (
            "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
        ),
    },
}


def built() -> FailureRecord:
    return FailureRecord.of(
        to_entries([rec(7, t=1_700_000_000.9), rec(8, t=1_700_000_061.0)]),
        shard_id="shardId-1",
        stream_arn=STREAM_ARN,
        function_arn="arn:aws:lambda:us-east-1:1:function:f",
        condition="RetryAttemptsExhausted",
        invoke_count=3,
        function_error=None,
        request_id="r-1",
        now=dt.datetime(2024, 6, 10, 8, 30, 5, 123456, tzinfo=dt.timezone.utc),
    )


def test_awss_sqs_body_parses_and_renders_back_exactly() -> None:
    failure = FailureRecord.parse(json.dumps(AWS_BODY))
    assert failure.shard_id == "shardId-00000001573689847184-864758bb"
    assert (failure.start_sequence_number, failure.batch_size) == ("800000000003126276362", 1)
    assert failure.approximate_arrival_of_first_record == dt.datetime(
        2019, 11, 14, 0, 13, 19, tzinfo=dt.timezone.utc
    )
    assert (failure.function_error, failure.payload, failure.records) == ("Unhandled", None, None)
    assert failure.to_dict() == AWS_BODY
    assert list(failure.to_dict()) == list(AWS_BODY)


def test_the_s3_shape_holds_the_payload_as_json_text() -> None:
    failure = built()
    s3 = failure.to_dict(with_payload=True)
    assert list(s3) == [*AWS_BODY, "payload"]
    assert isinstance(s3["payload"], str)
    assert json.loads(s3["payload"]) == {
        "Records": [rec(7, t=1_700_000_000.9), rec(8, t=1_700_000_061.0)]
    }
    assert s3["timestamp"] == "2024-06-10T08:30:05.123Z"
    assert s3["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] == "2023-11-14T22:13:20Z"
    assert s3["responseContext"]["functionError"] is None
    again = FailureRecord.parse(s3)
    assert again == failure
    assert again.records == [rec(7, t=1_700_000_000.9), rec(8, t=1_700_000_061.0)]


def test_a_payload_written_as_an_object_is_read_too() -> None:
    s3 = built().to_dict(with_payload=True)
    s3["payload"] = json.loads(s3["payload"])  # LocalStack's way
    assert FailureRecord.parse(s3).records == built().records


@pytest.mark.parametrize(
    "wrap",
    [
        lambda body: {"Body": body},  # an SQS message from receive_message
        lambda body: {"body": body},  # a record of a Lambda SQS event
        lambda body: {"Type": "Notification", "Message": body},  # an SNS notification
        lambda body: {"Sns": {"Message": body}},  # a record of a Lambda SNS event
        lambda body: {"Body": json.dumps({"Type": "Notification", "Message": body})},  # SNS->SQS
        lambda body: body.encode(),
    ],
)
def test_envelopes_around_the_record_are_unwrapped(wrap: Any) -> None:
    assert FailureRecord.parse(wrap(json.dumps(AWS_BODY))).shard_id.startswith("shardId-")


def test_s3_keys_follow_awss_naming() -> None:
    key = built().s3_key("14e0db71-5d35-4eb5-b481-8945cf9d10c2")
    assert re.fullmatch(
        r"aws/lambda/14e0db71-5d35-4eb5-b481-8945cf9d10c2/shardId-1/2024/06/10/"
        r"2024-06-10T08\.30\.05-[0-9a-f-]{36}",
        key,
    ), key


def bad(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(AWS_BODY))
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            bad(("DDBStreamBatchInfo", "startSequenceNumber"), "12x"),
            ("DDBStreamBatchInfo", "startSequenceNumber"),
        ),
        (
            bad(("DDBStreamBatchInfo", "endSequenceNumber"), 12),
            ("DDBStreamBatchInfo", "endSequenceNumber"),
        ),
        (bad(("DDBStreamBatchInfo", "batchSize"), "1"), ("DDBStreamBatchInfo", "batchSize")),
        (bad(("DDBStreamBatchInfo", "shardId"), ""), ("DDBStreamBatchInfo", "shardId")),
        (
            bad(("DDBStreamBatchInfo", "approximateArrivalOfFirstRecord"), "yesterday"),
            ("DDBStreamBatchInfo", "approximateArrivalOfFirstRecord"),
        ),
        (bad(("requestContext",), []), ("requestContext",)),
        (
            bad(("requestContext", "approximateInvokeCount"), -1),
            ("requestContext", "approximateInvokeCount"),
        ),
        (bad(("payload",), '{"Records": "none"}'), ("payload", "Records")),
        (bad(("payload",), 12), ("payload",)),
        ({"requestContext": {}}, ("DDBStreamBatchInfo",)),
    ],
)
def test_bad_records_are_decode_errors_naming_the_field(body: Any, path: tuple[str, ...]) -> None:
    with pytest.raises(DecodeError) as info:
        FailureRecord.parse(body)
    assert info.value.path == path


@pytest.mark.parametrize("value", ["{not json", "[]", 12, None])
def test_what_is_not_a_record_at_all(value: Any) -> None:
    with pytest.raises(DecodeError):
        FailureRecord.parse(value)


def test_read_json_lines_a_json_file_and_a_folder_oldest_first(tmp_path: Path) -> None:
    lines = tmp_path / "failed.jsonl"
    later = bad(("timestamp",), "2019-11-15T00:00:00.000Z")
    lines.write_text(json.dumps(later) + "\n\n" + json.dumps(AWS_BODY) + "\n")
    assert [f.timestamp.day for f in FailureRecord.read(lines) if f.timestamp] == [14, 15]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(AWS_BODY, indent=2))
    assert len(FailureRecord.read(single)) == 1
    folder = tmp_path / "bucket"
    for n, body in enumerate([built().to_dict(with_payload=True), AWS_BODY]):
        file = folder / "aws" / "lambda" / "u" / f"k{n}"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(body))
    assert [f.payload is not None for f in FailureRecord.read(folder)] == [False, True]


def test_read_names_the_file_and_line_of_a_bad_record(tmp_path: Path) -> None:
    lines = tmp_path / "failed.jsonl"
    lines.write_text(json.dumps(AWS_BODY) + "\n" + '{"DDBStreamBatchInfo": {}}\n')
    with pytest.raises(DecodeError, match=r"failed\.jsonl, line 2: must be a non-empty string"):
        FailureRecord.read(lines)
    with pytest.raises(UsageError, match="no such file or folder"):
        FailureRecord.read(tmp_path / "missing")
