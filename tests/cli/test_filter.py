"""The functions behind ``ddbstream filter check|lint|export``."""

from __future__ import annotations

import json

import pytest

from ddbstream.cli._filter import EXPORT_FORMATS, check, export, lint_command, load
from ddbstream.filters import FilterCriteria

PATTERN = '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"s": {"S": ["SHIPPED"]}}}}'


def _record(name: str, status: str, seq: str) -> dict[str, object]:
    return {
        "eventID": f"id-{seq}",
        "eventName": name,
        "dynamodb": {"NewImage": {"s": {"S": status}}, "SequenceNumber": seq},
    }


EVENT = {
    "Records": [
        _record("INSERT", "SHIPPED", "1"),
        _record("INSERT", "NEW", "2"),
        _record("MODIFY", "SHIPPED", "3"),
    ]
}


def test_check_lists_matches_and_the_first_failed_condition() -> None:
    code, out = check(PATTERN, EVENT)
    assert code == 0
    assert out.splitlines() == [
        "record 0 (INSERT, id-1, SequenceNumber=1): match",
        'record 1 (INSERT, id-2, SequenceNumber=2): no match: dynamodb.NewImage.s.S: "NEW" '
        'does not match ["SHIPPED"]',
        'record 2 (MODIFY, id-3, SequenceNumber=3): no match: eventName: "MODIFY" does not '
        'match ["INSERT"]',
        "1 of 3 records match",
    ]


def test_check_exit_codes() -> None:
    assert check(PATTERN, {"Records": EVENT["Records"][1:]})[0] == 1
    assert check(PATTERN, EVENT["Records"][0])[0] == 0  # a single record
    assert check(PATTERN, EVENT["Records"])[0] == 0  # a bare list (Pipes)
    code, out = check('{"eventName": []}', EVENT)
    assert code == 2
    assert "Empty arrays are not allowed (at eventName)" in out
    code, out = check(PATTERN, "not an event")
    assert code == 2
    assert "Records" in out
    code, out = check(PATTERN, [1])
    assert code == 1
    assert "record 0: not a record object" in out


def test_check_accepts_a_whole_filter_criteria() -> None:
    criteria = FilterCriteria([PATTERN, '{"eventName": ["MODIFY"]}']).to_json()
    code, out = check(criteria, EVENT)
    assert code == 0
    assert out.endswith("2 of 3 records match\n")
    assert "filter 1: " in out
    assert "filter 2: " in out


def test_load_reads_patterns_and_criteria() -> None:
    assert len(load(PATTERN)) == 1
    assert len(load('{"filters": [{"pattern": "{\\"a\\": [\\"x\\"]}"}]}')) == 1
    assert len(load(json.dumps({"Filters": [{"Pattern": PATTERN}] * 7}))) == 7


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_every_format(fmt: str) -> None:
    yaml = pytest.importorskip("yaml")  # PyYAML comes with cfn-lint (dev extra)
    code, out = export(PATTERN, fmt)
    assert code == 0
    assert out.endswith("\n")
    criteria = load(PATTERN)
    if fmt in ("cloudformation", "sam"):
        assert yaml.safe_load(out) == {"FilterCriteria": criteria.to_dict()}
    elif fmt == "serverless":
        assert yaml.safe_load(out) == {"filterPatterns": [json.loads(PATTERN)]}
    elif fmt == "json":
        assert json.loads(out) == criteria.to_dict()
    elif fmt == "cdk":
        assert "lambda_.FilterCriteria.filter(\n" in out
    else:
        assert out.startswith("filter_criteria {")


def test_export_errors() -> None:
    code, out = export(PATTERN, "pulumi")
    assert code == 2
    assert "unknown format 'pulumi'" in out
    code, out = export("{", "json")
    assert code == 2
    assert "not valid JSON" in out


def test_lint_command_reports_findings() -> None:
    code, out = lint_command('{"dynamodb": {"NewImage": {"qty": {"N": [{"numeric": [">", 1]}]}}}}')
    assert code == 1
    assert out.strip()
    code, out = lint_command('{"eventName": ["INSERT"]}', stream_view_type="NEW_AND_OLD_IMAGES")
    assert code in (0, 1)
    code, out = lint_command('{"eventName": "INSERT"}')
    assert code == 2
    assert "must be an object or an array" in out


def test_documented_check_output() -> None:
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples" / "filters"
    event = json.loads((examples / "check_records_event.json").read_text())
    pattern = json.dumps(
        {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {
                "NewImage": {"status": {"S": ["SHIPPED"]}, "total": {"N": [{"prefix": "1"}]}}
            },
        }
    )
    code, out = check(pattern, event)
    assert code == 0
    assert out == (examples / "check_output.txt").read_text()
