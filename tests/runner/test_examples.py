"""The runner's documented examples (examples/runner/) run on DynamoDB Local."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ddbstream.runner import EventSourceMapping, run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "runner"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"runner_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_orders(
    dynamodb_endpoint: str, dynamodb_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"Orders_{time.monotonic_ns()}"
    try:
        totals = load("run_orders").main(dynamodb_endpoint, name)
    finally:
        dynamodb_client.delete_table(TableName=name)
    assert totals == {"ann": 400, "bob": 50}
    assert "3 records handled in 1 invocation(s)" in capsys.readouterr().out


def test_orders_handler_reports_bad_records(
    make_table: Any, dynamodb_client: Any, dynamodb_endpoint: str
) -> None:
    module = load("orders_handler")
    table = make_table()
    dynamodb_client.put_item(
        TableName=table.name,
        Item={"pk": {"S": "o1"}, "customer": {"S": "ann"}, "amount": {"N": "5"}},
    )
    dynamodb_client.put_item(
        TableName=table.name, Item={"pk": {"S": "o2"}, "customer": {"S": "bob"}}
    )
    failures: list[dict[str, Any]] = []
    mapping = EventSourceMapping(
        function_response_types=("ReportBatchItemFailures",), maximum_retry_attempts=0
    )
    run(
        module.handler,
        table_name=table.name,
        endpoint_url=dynamodb_endpoint,
        mapping=mapping,
        on_failure=failures.append,
        until_idle=True,
        retry_delay=0.0,
        poll_interval=0.02,
    )
    assert module.TOTALS == {"ann": 5}
    assert [f["DDBStreamBatchInfo"]["batchSize"] for f in failures] == [1]
    assert failures[0]["responseContext"]["functionError"] is None


def test_on_failure(
    make_table: Any, dynamodb_client: Any, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    table = make_table()
    for pk in ("a", "b", "c", "d"):
        item = {"pk": {"S": pk}} if pk == "c" else {"pk": {"S": pk}, "amount": {"N": "1"}}
        dynamodb_client.put_item(TableName=table.name, Item=item)
    records = load("on_failure").main(dynamodb_endpoint, table.name, tmp_path / "failed.jsonl")
    assert len(records) == 1
    assert records[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert records[0]["DDBStreamBatchInfo"]["batchSize"] == 1


def test_tumbling_totals(make_table: Any, dynamodb_client: Any, dynamodb_endpoint: str) -> None:
    module = load("tumbling_totals")
    table = make_table()
    for pk, amount in (("a", 1), ("b", 2), ("c", 3)):
        dynamodb_client.put_item(
            TableName=table.name, Item={"pk": {"S": pk}, "amount": {"N": str(amount)}}
        )
    mapping = EventSourceMapping(tumbling_window_in_seconds=60)
    run(
        module.handler,
        table_name=table.name,
        endpoint_url=dynamodb_endpoint,
        mapping=mapping,
        until_idle=True,
        clock=lambda: time.time() + 120,
        poll_interval=0.02,
    )
    assert [r["total"] for r in module.RESULTS] == [6]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_cli_script(
    make_table: Any, dynamodb_client: Any, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    table = make_table()
    dynamodb_client.put_item(
        TableName=table.name,
        Item={"pk": {"S": "o1"}, "customer": {"S": "ann"}, "amount": {"N": "5"}},
    )
    for name in ("cli.sh", "orders_handler.py", "modify_only.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    env = {
        **os.environ,
        "ENDPOINT": dynamodb_endpoint,
        "TABLE": table.name,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["bash", "cli.sh"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "done: 1 read, 1 handled, 0 filtered out, 0 sent to on-failure" in proc.stderr
    assert "done: 1 read, 0 handled, 1 filtered out, 0 sent to on-failure" in proc.stderr
    assert (tmp_path / "checkpoints.db").exists()


def test_redrive(
    make_table: Any, dynamodb_client: Any, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    module = load("redrive")
    table = make_table()
    for pk, amount in (("o1", "5"), ("o2", None), ("o3", "7")):
        item = {"pk": {"S": pk}, "customer": {"S": "ann"}}
        if amount is not None:
            item["amount"] = {"N": amount}
        dynamodb_client.put_item(TableName=table.name, Item=item)
    report = module.main(dynamodb_endpoint, table.name, tmp_path / "failed")
    assert (report.reprocessed, report.failed_again) == (1, 0)
    assert module.AMOUNTS == {"o1": 5, "o2": 0, "o3": 7}


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_redrive_script(
    make_table: Any, dynamodb_client: Any, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    table = make_table()
    for pk, item in (("o1", {"amount": {"N": "5"}}), ("o2", {})):
        dynamodb_client.put_item(
            TableName=table.name, Item={"pk": {"S": pk}, "customer": {"S": "ann"}, **item}
        )
    for name in ("redrive.sh", "orders_handler.py", "orders_fixed.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    env = {
        **os.environ,
        "ENDPOINT": dynamodb_endpoint,
        "TABLE": table.name,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["bash", "redrive.sh"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "done: 2 read, 1 handled, 0 filtered out, 1 sent to on-failure" in proc.stderr
    assert "redrive: 1 reprocessed, 0 failed again, 0 superseded, 0 filtered out" in proc.stdout
    assert list((tmp_path / "failed" / "aws" / "lambda").iterdir())


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).with_name("cfn-lint")
    assert executable.exists(), "cfn-lint comes with the dev extra (make test installs it)"
    return subprocess.run(
        [str(executable), str(path)], capture_output=True, text=True, timeout=300, check=False
    )


def test_the_operating_template_passes_cfn_lint(tmp_path: Path) -> None:
    done = cfn_lint(EXAMPLES / "template.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "template.yaml"  # the check can fail: a metric group AWS does not know
    text = (EXAMPLES / "template.yaml").read_text()
    broken.write_text(text.replace("Metrics: [EventCount]", "Metrics: [RecordCount]"))
    assert cfn_lint(broken).returncode != 0
