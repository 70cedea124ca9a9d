"""lint(): one table row per finding code, plus clean patterns that must stay clean."""

from __future__ import annotations

from typing import Any

import pytest

from ddbstream import UsageError
from ddbstream.filters import (
    Filter,
    FilterCriteria,
    Finding,
    event_name,
    keys,
    lint,
    new_image,
)


def nimg(attr: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"dynamodb": {"NewImage": attr}, **top}


def oimg(attr: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"dynamodb": {"OldImage": attr}, **top}


INSERT_MODIFY = {"eventName": ["INSERT", "MODIFY"]}

# (code, severity, pattern, stream_view_type, path)
CASES: list[tuple[str, str, Any, str | None, tuple[Any, ...]]] = [
    ("invalid-pattern", "error", {"eventSource": []}, None, ("eventSource",)),
    ("invalid-pattern", "error", '{"eventName": "INSERT"}', None, ("eventName",)),
    (
        "invalid-pattern",
        "error",
        {"eventName": [{"EXISTS": True}]},
        None,
        ("eventName", 0, "EXISTS"),
    ),
    ("pattern-too-long", "error", {"eventName": ["INSERT"] * 700}, None, ()),
    (
        "numeric-on-string",
        "error",
        nimg({"n": {"N": [{"numeric": [">", 1]}]}}, **INSERT_MODIFY),
        None,
        ("dynamodb", "NewImage", "n", "N"),
    ),
    (
        "numeric-on-string",
        "error",
        {"dynamodb": {"Keys": {"k": {"S": [{"numeric": ["=", 1]}]}}}},
        None,
        ("dynamodb", "Keys", "k", "S"),
    ),
    (
        "number-literal-on-string",
        "error",
        oimg({"n": {"N": [250]}}),
        None,
        ("dynamodb", "OldImage", "n", "N"),
    ),
    (
        "number-literal-on-string",
        "error",
        oimg({"n": {"NS": [{"anything-but": [1, 2]}]}}),
        None,
        ("dynamodb", "OldImage", "n", "NS"),
    ),
    (
        "non-canonical-number",
        "warning",
        oimg({"n": {"N": ["12.50"]}}),
        None,
        ("dynamodb", "OldImage", "n", "N"),
    ),
    (
        "missing-descriptor",
        "error",
        oimg({"status": ["SHIPPED"]}),
        None,
        ("dynamodb", "OldImage", "status"),
    ),
    (
        "exists-on-non-leaf",
        "error",
        oimg({"status": [{"exists": True}]}),
        None,
        ("dynamodb", "OldImage", "status"),
    ),
    (
        "exists-on-non-leaf",
        "warning",
        oimg({"status": [{"exists": False}]}),
        None,
        ("dynamodb", "OldImage", "status"),
    ),
    (
        "exists-on-non-leaf",
        "error",
        oimg({"addr": {"M": [{"exists": True}]}}),
        None,
        ("dynamodb", "OldImage", "addr", "M"),
    ),
    ("null-on-attribute", "error", oimg({"gone": [None]}), None, ("dynamodb", "OldImage", "gone")),
    (
        "type-mismatch",
        "error",
        oimg({"s": {"S": [None]}}),
        None,
        ("dynamodb", "OldImage", "s", "S"),
    ),
    (
        "type-mismatch",
        "error",
        oimg({"s": {"NULL": ["x"]}}),
        None,
        ("dynamodb", "OldImage", "s", "NULL"),
    ),
    (
        "type-mismatch",
        "error",
        {"dynamodb": {"SizeBytes": ["100"]}},
        None,
        ("dynamodb", "SizeBytes"),
    ),
    ("type-mismatch", "error", {"eventName": [1]}, None, ("eventName",)),
    (
        "bool-as-string",
        "error",
        oimg({"flag": {"BOOL": ["true"]}}),
        None,
        ("dynamodb", "OldImage", "flag", "BOOL"),
    ),
    (
        "unknown-descriptor",
        "error",
        oimg({"s": {"s": ["x"]}}),
        None,
        ("dynamodb", "OldImage", "s", "s"),
    ),
    (
        "unknown-descriptor",
        "error",
        oimg({"s": {"S": {"x": ["x"]}}}),
        None,
        ("dynamodb", "OldImage", "s", "S", "x"),
    ),
    (
        "image-on-insert",
        "error",
        oimg({"s": {"S": ["x"]}}, eventName=["INSERT"]),
        None,
        ("dynamodb", "OldImage", "s", "S"),
    ),
    (
        "image-on-remove",
        "error",
        nimg({"s": {"S": ["x"]}}, eventName=["REMOVE"]),
        None,
        ("dynamodb", "NewImage", "s", "S"),
    ),
    (
        "drops-remove",
        "warning",
        nimg({"s": {"S": ["x"]}}),
        None,
        ("dynamodb", "NewImage", "s", "S"),
    ),
    (
        "drops-remove",
        "warning",
        nimg({"s": {"S": [{"anything-but": ["x"]}]}}),
        None,
        ("dynamodb", "NewImage", "s", "S"),
    ),
    (
        "image-not-in-stream",
        "error",
        oimg({"s": {"S": ["x"]}}),
        "KEYS_ONLY",
        ("dynamodb", "OldImage", "s", "S"),
    ),
    (
        "image-not-in-stream",
        "warning",
        oimg({"s": {"S": [{"exists": False}]}}),
        "KEYS_ONLY",
        ("dynamodb", "OldImage", "s", "S"),
    ),
    (
        "image-not-in-stream",
        "error",
        oimg({"s": {"S": ["x"]}}),
        "NEW_IMAGE",
        ("dynamodb", "OldImage", "s", "S"),
    ),
    (
        "image-not-in-stream",
        "error",
        nimg({"s": {"S": ["x"]}}, **INSERT_MODIFY),
        "OLD_IMAGE",
        ("dynamodb", "NewImage", "s", "S"),
    ),
    (
        "eventbridge-only",
        "error",
        oimg({"s": {"S": [{"wildcard": "a*b"}]}}),
        None,
        ("dynamodb", "OldImage", "s", "S"),
    ),
    (
        "eventbridge-only",
        "error",
        oimg({"s": {"S": [{"anything-but": {"prefix": "a"}}]}}),
        None,
        ("dynamodb", "OldImage", "s", "S"),
    ),
    ("eventbridge-only", "error", {"eventName": [{"exactly": "INSERT"}]}, None, ("eventName",)),
    (
        "pipes-only",
        "warning",
        oimg({"s": {"S": [{"prefix": {"equals-ignore-case": "a"}}]}}),
        None,
        ("dynamodb", "OldImage", "s", "S"),
    ),
    (
        "pipes-only",
        "warning",
        oimg({"s": {"S": [{"suffix": {"equals-ignore-case": "a"}}]}}),
        None,
        ("dynamodb", "OldImage", "s", "S"),
    ),
    ("unfilterable-field", "warning", {"awsRegion": ["eu-west-1"]}, None, ("awsRegion",)),
    (
        "unfilterable-field",
        "warning",
        {"eventSourceARN": [{"prefix": "arn:"}]},
        None,
        ("eventSourceARN",),
    ),
    ("unknown-field", "warning", {"EventName": ["INSERT"]}, None, ("EventName",)),
    (
        "unknown-field",
        "warning",
        {"dynamodb": {"newImage": {"s": {"S": ["x"]}}}},
        None,
        ("dynamodb", "newImage", "s", "S"),
    ),
    ("unknown-event-name", "error", {"eventName": ["insert"]}, None, ("eventName",)),
    (
        "no-event-name",
        "error",
        {"eventName": [{"anything-but": ["INSERT", "MODIFY", "REMOVE"]}]},
        None,
        ("eventName",),
    ),
    (
        "dotted-name",
        "warning",
        {"dynamodb": {"Keys": {"a.b": {"S": ["x"]}}}},
        None,
        ("dynamodb", "Keys", "a.b"),
    ),
    (
        "numeric-range",
        "warning",
        {"dynamodb": {"SizeBytes": [{"numeric": [">", 6e9]}]}},
        None,
        ("dynamodb", "SizeBytes"),
    ),
]


@pytest.mark.parametrize(
    ("code", "severity", "pattern", "view", "path"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_each_finding(
    code: str, severity: str, pattern: Any, view: str | None, path: tuple[Any, ...]
) -> None:
    findings = lint(pattern, stream_view_type=view)
    matching = [f for f in findings if f.code == code]
    assert matching, findings
    finding = matching[0]
    assert finding.severity == severity
    assert finding.path == path
    assert "Fix" in finding.message or "fix" in finding.message
    assert code in str(finding)


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"s": {"S": ["x"]}}}},
        {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "USER#"}]}}}},
        {"dynamodb": {"OldImage": {"n": {"N": ["12.5"]}}}, "eventName": ["REMOVE", "MODIFY"]},
        {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}},
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 1700000000]}]}},
        {"dynamodb": {"OldImage": {"items": {"L": {"M": {"sku": {"S": ["A1"]}}}}}}},
        {"dynamodb": {"OldImage": {"flag": {"BOOL": [True]}, "n": {"NULL": [True]}}}},
        {"$or": [{"eventName": ["REMOVE"]}, {"dynamodb": {"Keys": {"pk": {"S": ["a"]}}}}]},
    ],
)
def test_clean_patterns_have_no_findings(pattern: dict[str, Any]) -> None:
    assert lint(pattern, stream_view_type="NEW_AND_OLD_IMAGES") == []


def test_or_branches_are_checked_per_combination() -> None:
    pattern = {
        "$or": [
            {"eventName": ["INSERT"], "dynamodb": {"OldImage": {"s": {"S": ["x"]}}}},
            {"eventName": ["MODIFY"], "dynamodb": {"OldImage": {"s": {"S": ["x"]}}}},
        ]
    }
    (finding,) = lint(pattern)
    assert finding.code == "image-on-insert"
    assert finding.path == ("$or", 0, "dynamodb", "OldImage", "s", "S")


def test_filter_counts() -> None:
    six = [{"eventName": ["INSERT"]}] * 6
    (finding,) = lint(six)
    assert (finding.code, finding.severity) == ("too-many-filters", "error")
    assert "quota increase" in finding.message
    (finding,) = lint(FilterCriteria(six, max_filters=10))
    assert (finding.code, finding.severity) == ("filter-quota", "warning")


def test_inputs() -> None:
    pattern = {"dynamodb": {"NewImage": {"s": ["x"]}}}
    as_filter = lint(Filter.from_pattern(pattern))
    assert [f.code for f in as_filter] == ["missing-descriptor", "drops-remove"]
    assert lint({"Filters": [{"Pattern": '{"dynamodb":{"NewImage":{"s":["x"]}}}'}]}) == as_filter
    criteria = lint(FilterCriteria([{"eventName": ["INSERT"]}, pattern]))
    assert {f.filter for f in criteria} == {1}
    assert [f.code for f in lint(new_image("s") == "x")] == ["drops-remove"]
    assert lint((event_name == "INSERT") & (new_image("s") == "x")) == []
    assert lint(keys("pk") == "a", stream_view_type="KEYS_ONLY") == []
    with pytest.raises(UsageError, match="StreamViewType"):
        lint(pattern, stream_view_type="KEYS")
    with pytest.raises(UsageError):
        lint(42)


def test_finding_is_a_frozen_value() -> None:
    finding = Finding("warning", "dotted-name", ("a",), "why. Fix: how.")
    with pytest.raises(AttributeError):
        finding.code = "x"  # type: ignore[misc]
    assert finding == Finding("warning", "dotted-name", ("a",), "why. Fix: how.")
    assert str(finding) == "warning dotted-name at a: why. Fix: how."


def test_limits_have_their_own_codes() -> None:
    too_complex = {f"k{i}": {"$or": [{"a": ["1"]}, {"b": ["2"]}]} for i in range(11)}
    assert [f.code for f in lint(too_complex)] == ["too-many-combinations"]
    assert [f.code for f in lint({"a": ["x" * 5000]})] == ["pattern-too-long"]
    assert [f.code for f in lint("{not json")] == ["invalid-pattern"]


def test_every_rule_has_a_fix_and_a_stable_code() -> None:
    from ddbstream.filters._lint_rules import RULES

    codes = {rule.code for rule in RULES.values()}
    assert len(codes) >= 24
    for rule in RULES.values():
        assert "Fix" in rule.message or "Fix" in rule.message.format_map(_Blank())
        assert rule.severity in ("error", "warning")


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def test_deep_patterns_lint_without_recursion() -> None:
    pattern: Any = [{"exists": False}]
    for _ in range(800):
        pattern = {"": pattern}
    findings = lint(pattern)
    assert {f.code for f in findings} == {"unknown-field"}
