"""The ``ddbstream`` command line, in-process through ``main(argv)`` and once as a subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ddbstream import __version__
from ddbstream.cli import main
from ddbstream.cli._run import Status
from ddbstream.runner import CheckpointStore, Retrying, RunnerStats

APP = """
import json, os

def handler(event, context):
    with open(os.environ["CLI_TEST_OUT"], "a") as fh:
        fh.write(json.dumps([r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]) + "\\n")
"""


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("ddbstream: error: ")
    return lines[0]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ddbstream {__version__}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "no_such_module_xyz:handler", "--table", "T"],
            "cannot import 'no_such_module_xyz'",
        ),
        (["run", "json:nope", "--table", "T"], "module 'json' has no attribute 'nope'"),
        (["run", "json", "--table", "T"], "must look like MODULE:HANDLER"),
        (["run", "missing.py:handler", "--table", "T"], "no such file: missing.py"),
        (["run", "json:dumps"], "give --table NAME or --stream-arn ARN"),
        (
            ["run", "json:dumps", "--table", "T", "--batch-size", "0"],
            "batch_size=0 must be 1..10000",
        ),
        (
            ["run", "json:dumps", "--table", "T", "--max-record-age", "30"],
            "maximum_record_age_in_seconds=30",
        ),
        (["run", "json:dumps", "--table", "T", "--filter-criteria", "{not json"], "not valid JSON"),
        (["filter", "check", '{"eventName": ["INSERT"]}', "{bad"], "the event is not valid JSON"),
        (["filter", "check", "nofile.json", "{}"], "neither a file nor inline JSON"),
    ],
)
def test_user_mistakes_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert message.lower() in line.lower()


def test_broken_user_module_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = tmp_path / "broken.py"
    app.write_text("def handler(:\n")
    assert main(["run", f"{app}:handler", "--table", "T"]) == 2
    assert "SyntaxError" in one_error_line(capsys.readouterr().err)


def test_missing_table(dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "run",
        "json:dumps",
        "--table",
        "no-such-table",
        "--endpoint-url",
        dynamodb_endpoint,
        "--until-idle",
    ]
    assert main(argv) == 2
    assert "table 'no-such-table'" in one_error_line(capsys.readouterr().err)


def test_run_until_idle(
    make_table: Any,
    dynamodb_client: Any,
    dynamodb_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = make_table()
    for pk in "abc":
        dynamodb_client.put_item(TableName=table.name, Item={"pk": {"S": pk}})
    (tmp_path / "cli_app.py").write_text(APP)
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv("CLI_TEST_OUT", str(out))
    monkeypatch.chdir(tmp_path)
    pattern = tmp_path / "filter.json"
    pattern.write_text(json.dumps({"dynamodb": {"Keys": {"pk": {"S": ["a", "c"]}}}}))
    argv = [
        "run",
        "cli_app:handler",
        "--table",
        table.name,
        "--endpoint-url",
        dynamodb_endpoint,
        "--batch-size",
        "1",
        "--filter-criteria",
        str(pattern),
        "--checkpoint",
        str(tmp_path / "cp.db"),
        "--until-idle",
    ]
    assert main(argv) == 0
    assert [json.loads(line) for line in out.read_text().splitlines()] == [["a"], ["c"]]
    err = capsys.readouterr().err
    assert "done: 3 read, 2 handled, 1 filtered out, 0 sent to on-failure" in err
    assert main(argv) == 0  # the checkpoint: nothing new
    assert len(out.read_text().splitlines()) == 2


def test_status_line_on_a_tty() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    status = Status(stream)
    stats = RunnerStats(records_read=10, records_failed=1, function_errors=2)
    status(stats)
    status.done(stats)
    text = stream.getvalue()
    assert text.startswith("\r\x1b[K10 records, ")
    assert "behind latest -, 1 failed, 2 function errors" in text
    assert text.endswith("done: 10 read, 0 handled, 0 filtered out, 1 sent to on-failure\n")


def test_filter_check_lint_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern = '{"eventName": ["INSERT"]}'
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "Records": [
                    {"eventName": "INSERT", "dynamodb": {}},
                    {"eventName": "REMOVE", "dynamodb": {}},
                ]
            }
        )
    )
    assert main(["filter", "check", pattern, str(event)]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 records match" in out
    monkeypatch.setattr(
        sys, "stdin", io.StringIO(json.dumps({"eventName": "MODIFY", "dynamodb": {}}))
    )
    assert main(["filter", "check", pattern, "-"]) == 1
    assert "0 of 1 records match" in capsys.readouterr().out
    assert main(["filter", "export", pattern, "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert json.loads(exported["Filters"][0]["Pattern"]) == {"eventName": ["INSERT"]}


def test_filter_lint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["filter", "lint", '{"eventName": ["INSERT"]}']) == 0
    assert capsys.readouterr().out == "no findings\n"
    assert main(["filter", "lint", '{"eventName": [{"bogus": 1}]}']) == 2
    assert "invalid pattern" in one_error_line(capsys.readouterr().err)


def test_local_start_reports_a_dead_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ddbstream.testing import _local

    class Dead:
        endpoint_url = "http://127.0.0.1:8123"
        running = False

        def __init__(self, *, port: int) -> None:
            assert port == 8123

        def __enter__(self) -> Dead:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def log_tail(self) -> str:
            return "boom"

    import ddbstream.testing

    monkeypatch.setattr(_local, "DynamoDBLocal", Dead)
    monkeypatch.setattr(ddbstream.testing, "DynamoDBLocal", Dead)  # once read, it is cached
    assert main(["local", "start", "--port", "8123"]) == 2
    captured = capsys.readouterr()
    assert "DynamoDB Local at http://127.0.0.1:8123" in captured.out
    assert "stopped by itself" in one_error_line(captured.err)


def test_console_script_in_a_subprocess(
    make_table: Any, dynamodb_client: Any, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    table = make_table()
    dynamodb_client.put_item(TableName=table.name, Item={"pk": {"S": "x"}})
    (tmp_path / "sub_app.py").write_text(APP)
    out = tmp_path / "out.jsonl"
    script = Path(sys.executable).with_name("ddbstream")
    proc = subprocess.run(
        [
            str(script),
            "run",
            "sub_app:handler",
            "--table",
            table.name,
            "--endpoint-url",
            dynamodb_endpoint,
            "--until-idle",
        ],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "CLI_TEST_OUT": str(out), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().splitlines() == ['["x"]']
    assert "done: 1 read, 1 handled" in proc.stderr
    bad = subprocess.run(
        [str(script), "run", "nope:handler", "--table", "T"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert bad.returncode == 2
    one_error_line(bad.stderr)


POISON_APP = """
import os

def handler(event, context):
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["pk"]["S"] == os.environ.get("CLI_POISON", "poison"):
            raise ValueError("poison record")
"""


def test_run_refuses_filter_criteria_with_lint_errors(
    make_table: Any, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    table = make_table()
    pattern = json.dumps({"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}})
    argv = [
        "run",
        "json:dumps",
        "--table",
        table.name,
        "--endpoint-url",
        dynamodb_endpoint,
        "--filter-criteria",
        pattern,
        "--until-idle",
    ]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "numeric-on-string" in line
    assert "--allow-lint-errors" in line
    assert main([*argv, "--allow-lint-errors"]) == 0
    assert "done: 0 read" in capsys.readouterr().err


def test_run_until_idle_exits_1_with_a_summary_when_a_record_is_stuck(
    make_table: Any,
    dynamodb_client: Any,
    dynamodb_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = make_table()
    for pk in ("a", "poison"):
        dynamodb_client.put_item(TableName=table.name, Item={"pk": {"S": pk}})
    (tmp_path / "poison_app.py").write_text(POISON_APP)
    monkeypatch.chdir(tmp_path)
    argv = ["run", "poison_app:handler", "--table", table.name, "--endpoint-url"]
    argv += [dynamodb_endpoint, "--until-idle", "--stuck-after", "3"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "done: 2 read, 0 handled" in err
    assert "stuck: shard shardId-" in err
    assert "3 attempt(s)" in err
    assert "last error: ValueError: poison record" in err
    assert "the checkpoint stays before them" in err


def test_run_with_a_garbage_checkpoint_file_is_one_line(
    make_table: Any, dynamodb_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = make_table()
    garbage = tmp_path / "cp.db"
    garbage.write_text("this is not a database\n" * 100)
    argv = ["run", "json:dumps", "--table", table.name, "--endpoint-url", dynamodb_endpoint]
    assert main([*argv, "--checkpoint", str(garbage), "--until-idle"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"checkpoint file {garbage}" in line
    assert "delete it to start every stream over" in line


def test_status_line_shows_what_is_retried() -> None:
    stats = RunnerStats(records_read=4)
    stats.set_retrying(
        "lane", Retrying("shardId-1", "7", "e7", records=3, attempts=5, oldest_record_time=None)
    )
    assert "retrying 3 records (attempt 5)" in Status.line(stats)
    stats.set_retrying("lane", None)
    assert "retrying" not in Status.line(stats)


def test_run_with_a_checkpoint_from_another_server_is_one_line(
    make_table: Any,
    dynamodb_client: Any,
    dynamodbstreams_client: Any,
    dynamodb_endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = make_table()
    dynamodb_client.put_item(TableName=table.name, Item={"pk": {"S": "a"}})
    description = dynamodbstreams_client.describe_stream(StreamArn=table.stream_arn)
    (shard,) = description["StreamDescription"]["Shards"]
    checkpoint = tmp_path / "cp.db"
    store = CheckpointStore(checkpoint)
    store.save(str(table.stream_arn), shard["ShardId"], "000000000099999999999")
    store.close()
    # operator.is_not(event, context) is a handler that succeeds
    argv = ["run", "operator:is_not", "--table", table.name, "--endpoint-url", dynamodb_endpoint]
    argv += ["--checkpoint", str(checkpoint), "--until-idle"]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "SequenceNumber 000000000099999999999" in line
    assert "--reset-checkpoint" in line
    assert main([*argv, "--reset-checkpoint"]) == 0
    assert "done: 1 read, 1 handled" in capsys.readouterr().err
