"""On-failure destinations: a callable, a JSON-lines file, or the log."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from ddbstream import UsageError
from ddbstream.runner import FailureFolder, FailureRecord, failure_record
from ddbstream.runner._batches import to_entries
from ddbstream.runner._destination import make_destination

from ._support import STREAM_ARN, rec

RECORDS = [rec(7, t=1_700_000_000.9), rec(8, t=1_700_000_061.0)]
WHERE: dict[str, Any] = {
    "shard_id": "shardId-1",
    "stream_arn": STREAM_ARN,
    "function_arn": "arn:aws:lambda:us-east-1:1:function:f",
    "condition": "RetryAttemptsExhausted",
    "invoke_count": 2,
    "function_error": "Unhandled",
    "request_id": "r-1",
}


def record() -> dict[str, Any]:
    return failure_record(RECORDS, **WHERE)


def failure() -> FailureRecord:
    return FailureRecord.of(to_entries(RECORDS), **WHERE)


def test_failure_record_shape() -> None:
    out = record()
    assert out["requestContext"] == {
        "requestId": "r-1",
        "functionArn": "arn:aws:lambda:us-east-1:1:function:f",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 2,
    }
    info = out["DDBStreamBatchInfo"]
    assert info["approximateArrivalOfFirstRecord"] == "2023-11-14T22:13:20Z"  # second precision
    assert info["approximateArrivalOfLastRecord"] == "2023-11-14T22:14:21Z"
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "000000000000000000007",
        "000000000000000000008",
        2,
    )
    stamp = out["timestamp"]
    assert len(stamp) == len("2019-11-14T00:13:49.717Z")
    assert stamp.endswith("Z")


def test_json_lines_file(tmp_path: Path) -> None:
    path = tmp_path / "failed.jsonl"
    send = make_destination(path)
    send(failure())
    send(failure())
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        record() | {"timestamp": json.loads(line)["timestamp"]} for line in lines
    ]


def test_callable_and_log(caplog: pytest.LogCaptureFixture) -> None:
    got: list[dict[str, Any]] = []
    make_destination(got.append)(failure())
    assert got[0]["requestContext"]["requestId"] == "r-1"
    with caplog.at_level(logging.ERROR, logger="ddbstream.runner"):
        make_destination(None)(failure())
    assert "no on-failure destination" in caplog.text
    assert '"startSequenceNumber": "000000000000000000007"' in caplog.text


def test_folder_gets_the_s3_shape_one_file_per_failure_under_awss_key(tmp_path: Path) -> None:
    folder = FailureFolder(
        tmp_path / "failures", mapping_uuid="11111111-2222-3333-4444-555555555555"
    )
    send = make_destination(folder)
    send(failure())
    send(failure())
    files = sorted(p for p in (tmp_path / "failures").rglob("*") if p.is_file())
    assert len(files) == 2
    relative = files[0].relative_to(tmp_path / "failures").parts
    assert relative[:4] == ("aws", "lambda", "11111111-2222-3333-4444-555555555555", "shardId-1")
    body = json.loads(files[0].read_text())
    assert body == failure().to_dict(with_payload=True) | {"timestamp": body["timestamp"]}
    assert [f.records for f in FailureRecord.read(tmp_path / "failures")] == [RECORDS, RECORDS]


def test_the_default_mapping_uuid_is_stable_per_function_and_stream(tmp_path: Path) -> None:
    first = FailureFolder(tmp_path).write(failure())
    second = FailureFolder(tmp_path).write(failure())
    assert first.parts[-6] == second.parts[-6]  # aws/lambda/<uuid>/<shard>/YYYY/MM/DD/name


def test_an_unusable_destination_is_refused() -> None:
    with pytest.raises(UsageError, match="on_failure=42"):
        make_destination(42)  # type: ignore[arg-type]
