"""``ddbstream redrive``: records the run gave up on, run through the fixed handler again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ddbstream.cli import main

from .test_main import POISON_APP, one_error_line

FIXED_APP = """
import json, os

def handler(event, context):
    with open(os.environ["CLI_TEST_OUT"], "a") as fh:
        for record in event["Records"]:
            fh.write(record["dynamodb"]["Keys"]["pk"]["S"] + "\\n")
"""


@pytest.fixture
def failed_run(
    make_table: Any,
    dynamodb_client: Any,
    dynamodb_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Path:
    """A run whose poison record went to an S3-shaped failure folder."""
    table = make_table()
    for pk in ("a", "poison", "b"):
        dynamodb_client.put_item(TableName=table.name, Item={"pk": {"S": pk}})
    (tmp_path / "poison_app.py").write_text(POISON_APP)
    (tmp_path / "fixed_app.py").write_text(FIXED_APP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLI_TEST_OUT", str(tmp_path / "out.txt"))
    argv = ["run", "poison_app:handler", "--table", table.name, "--endpoint-url"]
    argv += [dynamodb_endpoint, "--bisect-on-error", "--max-retries", "0"]
    assert main([*argv, "--on-failure-dir", "failed", "--until-idle"]) == 0
    assert (
        "done: 3 read, 2 handled, 0 filtered out, 1 sent to on-failure" in capsys.readouterr().err
    )
    return tmp_path / "failed"


def test_redrive_with_the_fixed_handler(
    failed_run: Path, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["redrive", "fixed_app:handler", str(failed_run), "--endpoint-url", dynamodb_endpoint]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(
        "(from the payload): 1 reprocessed, 0 failed again, 0 superseded, 0 filtered out"
    )
    assert out[-1] == "redrive: 1 reprocessed, 0 failed again, 0 superseded, 0 filtered out"
    assert (failed_run.parent / "out.txt").read_text() == "poison\n"
    assert main([*argv, "--from-stream"]) == 0
    assert "(from the stream): 1 reprocessed" in capsys.readouterr().out


def test_a_redrive_that_fails_again_exits_1_and_keeps_the_records(
    failed_run: Path, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["redrive", "poison_app:handler", str(failed_run), "--endpoint-url", dynamodb_endpoint]
    assert main([*argv, "--max-retries", "1", "--on-failure", "again.jsonl"]) == 1
    assert "redrive: 0 reprocessed, 1 failed again" in capsys.readouterr().out
    (line,) = Path("again.jsonl").read_text().splitlines()
    assert json.loads(line)["requestContext"]["approximateInvokeCount"] == 2


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing-folder", "no such file or folder: missing-folder"),
        ("bad.jsonl", "bad.jsonl, line 1: not an on-failure record"),
        ("empty.jsonl", "no on-failure records in empty.jsonl"),
    ],
)
def test_unusable_sources_are_one_line(
    source: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.jsonl").write_text('{"hello": "world"}\n{"x": 1}\n')
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["redrive", "json:dumps", source]) == 2
    assert message in one_error_line(capsys.readouterr().err)


def test_a_redrive_that_retries_forever_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "failed.json"
    info = {"shardId": "s", "startSequenceNumber": "1", "endSequenceNumber": "1"}
    info |= {"batchSize": 1, "streamArn": "arn:aws:dynamodb:r:1:table/T/stream/x"}
    record.write_text(json.dumps({"DDBStreamBatchInfo": info}))
    assert main(["redrive", "json:dumps", str(record), "--max-retries", "-1"]) == 2
    assert "needs finite retries" in one_error_line(capsys.readouterr().err)
