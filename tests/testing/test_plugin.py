"""ddbstream.testing._plugin: the pytest11 plugin, its marker and its DynamoDB Local fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from ddbstream.testing import DynamoDBLocal, LocalTable, MakeTable


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, ddbstream.testing._plugin as p; "
        "heavy = {'boto3', 'botocore', 'hypothesis', 'pydantic'} & set(sys.modules); "
        "assert not heavy, heavy; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_plugin_is_registered_through_the_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("ddbstream")
    assert plugin is not None
    assert plugin.__name__ == "ddbstream.testing._plugin"


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.dynamodb_local:*DynamoDB Local*"])


def test_tests_using_the_fixtures_get_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_plain():
            pass

        def test_uses_table(make_table):
            pass

        def test_uses_client(dynamodb_client):
            pass
        """
    )
    result = pytester.runpytest("--collect-only", "-q", "-m", "not dynamodb_local")
    result.stdout.fnmatch_lines(["*test_plain*", "*1/3 tests collected (2 deselected)*"])


def test_endpoint_variable_reuses_a_running_server_and_tables_are_deleted(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_endpoint: str,
    dynamodb_client: Any,
    tmp_path: Path,
) -> None:
    """An inner pytest session connects to this session's server instead of starting java."""
    monkeypatch.setenv("DDBSTREAM_DYNAMODB_ENDPOINT", dynamodb_endpoint)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java: starting a server would fail
    monkeypatch.setenv("INNER_OUT", str(tmp_path / "names.json"))
    pytester.makepyfile(
        """
        import json, os

        def test_inner(dynamodb_endpoint, make_table):
            assert dynamodb_endpoint == os.environ["DDBSTREAM_DYNAMODB_ENDPOINT"]
            names = [make_table().name, make_table("explicit-name-table").name]
            with open(os.environ["INNER_OUT"], "w") as fh:
                json.dump(names, fh)
        """
    )
    pytester.runpytest_inprocess("-q").assert_outcomes(passed=1)
    names = json.loads((tmp_path / "names.json").read_text())
    assert names[1] == "explicit-name-table"
    assert names[0].startswith("ddbstream-")
    existing = dynamodb_client.list_tables(Limit=100)["TableNames"]
    assert not set(names) & set(existing)


def test_make_table_defaults(make_table: MakeTable, dynamodb_client: Any) -> None:
    table = make_table()
    assert isinstance(table, LocalTable)
    description = dynamodb_client.describe_table(TableName=table.name)["Table"]
    assert description["TableStatus"] == "ACTIVE"
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert description["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert description["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table.arn == description["TableArn"]
    assert table.stream_arn == description["LatestStreamArn"]
    assert table.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert make_table().name != table.name


def test_make_table_custom_keys_and_no_stream(make_table: MakeTable, dynamodb_client: Any) -> None:
    table = make_table(
        key_schema=[
            {"AttributeName": "tenant", "KeyType": "HASH"},
            {"AttributeName": "at", "KeyType": "RANGE"},
        ],
        attribute_definitions=[{"AttributeName": "at", "AttributeType": "N"}],
        stream_view_type=None,
    )
    assert table.stream_arn is None
    assert table.stream_view_type is None
    description = dynamodb_client.describe_table(TableName=table.name)["Table"]
    assert "LatestStreamArn" not in description
    assert sorted(
        (d["AttributeName"], d["AttributeType"]) for d in description["AttributeDefinitions"]
    ) == [("at", "N"), ("tenant", "S")]


def test_make_table_deleted_by_the_test_is_fine(
    make_table: MakeTable, dynamodb_client: Any
) -> None:
    table = make_table()
    dynamodb_client.delete_table(TableName=table.name)  # teardown must not fail


def test_dynamodb_env_points_plain_boto3_at_dynamodb_local(
    dynamodb_env: dict[str, str], dynamodb_endpoint: str, make_table: MakeTable
) -> None:
    assert dynamodb_env["AWS_ENDPOINT_URL"] == dynamodb_endpoint
    assert os.environ["AWS_ENDPOINT_URL"] == dynamodb_endpoint
    assert "AWS_PROFILE" not in os.environ
    table = make_table()
    # code under test builds its clients with no arguments at all
    assert boto3.client("dynamodb").describe_table(TableName=table.name)["Table"]["TableName"] == (
        table.name
    )
    assert boto3.client("dynamodbstreams").describe_stream(StreamArn=table.stream_arn)


def test_session_fixtures_share_one_server(
    dynamodb_local: DynamoDBLocal,
    dynamodb_endpoint: str,
    dynamodb_client: Any,
    dynamodbstreams_client: Any,
) -> None:
    assert dynamodb_endpoint == dynamodb_local.endpoint_url
    assert dynamodb_client.meta.endpoint_url == dynamodb_endpoint
    assert dynamodbstreams_client.meta.endpoint_url == dynamodb_endpoint
    assert dynamodbstreams_client.meta.service_model.service_name == "dynamodbstreams"


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "testing"


def test_documented_pytest_example_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, dynamodb_endpoint: str
) -> None:
    monkeypatch.setenv("DDBSTREAM_DYNAMODB_ENDPOINT", dynamodb_endpoint)
    result = pytester.runpytest_inprocess(str(EXAMPLES / "test_orders_stream.py"), "-q")
    result.assert_outcomes(passed=1)
