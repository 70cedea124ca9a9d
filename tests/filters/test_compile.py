"""Compilation to the fewest Lambda patterns, and the errors for what Lambda cannot express."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ddbstream import FilterNotExpressible, LimitExceeded
from ddbstream.filters import (
    Expression,
    Filter,
    FilterCriteria,
    changed,
    compile_filters,
    event_name,
    keys,
    new_image,
    old_image,
    size_bytes,
    to_criteria,
    ttl_delete,
    where,
)

NEW = "NewImage"


def ddb(section: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"dynamodb": {section: body}}


@pytest.mark.parametrize(
    ("expr", "patterns"),
    [
        # value-list OR on one field
        (
            (new_image("a") == "x") | (new_image("a") == "y") | new_image("a").begins_with("z"),
            [ddb(NEW, {"a": {"S": ["x", "y", {"prefix": "z"}]}})],
        ),
        # $or at the deepest common object
        (
            (new_image("a") == "x") | (new_image("b") == "y"),
            [ddb(NEW, {"$or": [{"a": {"S": ["x"]}}, {"b": {"S": ["y"]}}]})],
        ),
        # two ORs in one AND sit at different levels
        (
            ((event_name == "INSERT") | (keys("pk") == "k"))
            & ((new_image("a") == "x") | (new_image("b") == "y")),
            [
                {
                    "$or": [
                        {"eventName": ["INSERT"]},
                        {"dynamodb": {"Keys": {"pk": {"S": ["k"]}}}},
                    ],
                    "dynamodb": {NEW: {"$or": [{"a": {"S": ["x"]}}, {"b": {"S": ["y"]}}]}},
                }
            ],
        ),
        # NOT on an always-present field is a bare anything-but
        (~(event_name == "REMOVE"), [{"eventName": [{"anything-but": ["REMOVE"]}]}]),
        # NOT on an optional attribute keeps records without it
        (
            ~(new_image("a") == "x"),
            [ddb(NEW, {"a": {"S": [{"anything-but": ["x"]}, {"exists": False}]}})],
        ),
        # De Morgan
        (
            ~((new_image("a") == "x") | new_image("b", descriptor="S").exists()),
            [
                ddb(
                    NEW,
                    {
                        "a": {"S": [{"anything-but": ["x"]}, {"exists": False}]},
                        "b": {"S": [{"exists": False}]},
                    },
                )
            ],
        ),
        # AND on one field intersects
        (
            new_image("a").is_in("x", "y", "zz") & new_image("a").begins_with("z"),
            [ddb(NEW, {"a": {"S": ["zz"]}})],
        ),
        (
            new_image("a").begins_with("ab") & new_image("a").begins_with("a"),
            [ddb(NEW, {"a": {"S": [{"prefix": "ab"}]}})],
        ),
        (
            new_image("a").anything_but("x") & ~(new_image("a") == "y"),
            [ddb(NEW, {"a": {"S": [{"anything-but": ["x", "y"]}]}})],
        ),
        (
            (size_bytes > 1) & (size_bytes <= 9),
            [{"dynamodb": {"SizeBytes": [{"numeric": [">", 1, "<=", 9]}]}}],
        ),
        # NOT of a prefix is fine when a closed value set can list the rest
        (~event_name.begins_with("M"), [{"eventName": [{"anything-but": ["MODIFY"]}]}]),
        # sets and lists: any element
        (
            new_image("t", descriptor="SS").contains("x", "y"),
            [ddb(NEW, {"t": {"SS": ["x", "y"]}})],
        ),
        (
            new_image("l", descriptor="L").contains(1) | new_image("l", descriptor="L").contains(2),
            [ddb(NEW, {"l": {"L": {"N": ["1", "2"]}}})],
        ),
        (
            new_image("t", descriptor="SS").contains("x")
            & new_image("t", descriptor="SS").exists(),
            [ddb(NEW, {"t": {"SS": ["x"]}})],
        ),
        (~new_image("t", descriptor="NS").exists(), [ddb(NEW, {"t": {"NS": [{"exists": False}]}})]),
        # a contradiction inside an OR drops that branch
        (
            ((new_image("a") == "x") & (new_image("a") == "y")) | (event_name == "INSERT"),
            [{"eventName": ["INSERT"]}],
        ),
        # an AND that shares a field with an OR is distributed, never emitted twice
        (
            (new_image("a").begins_with("a"))
            & ((new_image("a") == "ab") | (new_image("b") == "y")),
            [
                ddb(
                    NEW,
                    {
                        "$or": [
                            {"a": {"S": ["ab"]}},
                            {"a": {"S": [{"prefix": "a"}]}, "b": {"S": ["y"]}},
                        ]
                    },
                )
            ],
        ),
        (
            ~ttl_delete() & (event_name == "REMOVE"),
            [
                {
                    "eventName": ["REMOVE"],
                    "userIdentity": {
                        "$or": [
                            {"type": [{"anything-but": ["Service"]}, {"exists": False}]},
                            {
                                "principalId": [
                                    {"anything-but": ["dynamodb.amazonaws.com"]},
                                    {"exists": False},
                                ]
                            },
                        ]
                    },
                }
            ],
        ),
    ],
)
def test_compiles_to_one_minimal_pattern(expr: Expression, patterns: list[dict[str, Any]]) -> None:
    assert compile_filters(expr) == patterns


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (new_image("a").begins_with("x") & new_image("a").begins_with("y"), "never match"),
        (
            new_image("a").begins_with("x") & new_image("a").ends_with("y"),
            "AND of several conditions on dynamodb.NewImage.a.S",
        ),
        (~new_image("a").begins_with("x"), "NOT prefix on dynamodb.NewImage.a.S"),
        (~keys("pk").ends_with("x"), "NOT suffix"),
        (~new_image("a").equals_ignore_case("x"), "NOT equals-ignore-case"),
        (~new_image("t", descriptor="SS").contains("x"), "no element is x"),
        (
            new_image("t", descriptor="SS").contains("x")
            & new_image("t", descriptor="SS").contains("y"),
            "AND of two element tests",
        ),
        (
            new_image("l", descriptor="L").contains(1)
            & new_image("l", descriptor="L").contains("a"),
            r"element tests of different types on dynamodb.NewImage.l.L \(N and S\)",
        ),
        (
            (new_image("l", descriptor="L").contains(1) | (event_name == "INSERT"))
            & new_image("l", descriptor="L").contains("a"),
            "element tests of different types",
        ),
        (
            new_image("l", descriptor="L").contains(1)
            & ~new_image("l", descriptor="L").contains(True, False),
            r"\(BOOL and N\)",
        ),
        ((new_image("a") == "x") | ~(new_image("a") == "x"), "matches every record"),
        (event_name.anything_but("INSERT", "MODIFY", "REMOVE"), "never match"),
    ],
)
def test_what_lambda_cannot_express_is_an_error(expr: Expression, message: str) -> None:
    with pytest.raises(FilterNotExpressible, match=message):
        compile_filters(expr)


def test_element_tests_of_two_types_would_need_one_element_holding_both() -> None:
    # why the AND above is refused: the pattern it would take never matches [1, "a"]
    record = {"dynamodb": {"NewImage": {"l": {"L": [{"N": "1"}, {"S": "a"}]}}}}
    naive = {"dynamodb": {"NewImage": {"l": {"L": {"N": ["1"], "S": ["a"]}}}}}
    assert not Filter.from_pattern(naive).matches(record)
    both = new_image("l", descriptor="L").contains(1) & new_image("l", descriptor="L").contains("a")
    assert both.matches(record)
    # on two different lists, or ORed, the element tests compile
    other = new_image("l", descriptor="L").contains(1) & new_image("m", descriptor="L").contains(
        "a"
    )
    assert compile_filters(other) == [
        {"dynamodb": {"NewImage": {"l": {"L": {"N": ["1"]}}, "m": {"L": {"S": ["a"]}}}}}
    ]


def test_local_predicates_are_refused_at_runtime() -> None:
    local = (new_image("a") == "x") & changed("b")
    with pytest.raises(FilterNotExpressible, match="local-only"):
        compile_filters(local)  # type: ignore[arg-type]
    with pytest.raises(FilterNotExpressible, match="local-only"):
        to_criteria(where(lambda r: True))  # type: ignore[arg-type]
    assert not hasattr(local, "to_criteria")


def test_to_criteria_builds_the_lambda_shape() -> None:
    criteria = (new_image("status") == "SHIPPED").to_criteria()
    assert isinstance(criteria, FilterCriteria)
    assert criteria.to_dict() == {
        "Filters": [{"Pattern": '{"dynamodb":{"NewImage":{"status":{"S":["SHIPPED"]}}}}'}]
    }


def _long_or(count: int, width: int = 300) -> Expression:
    expr = new_image("a0") == "v" * width
    for i in range(1, count):
        expr = expr | (new_image(f"a{i}") == "v" * width)
    return expr


def test_a_pattern_too_long_is_spread_over_filters() -> None:
    expr = _long_or(30)  # ~9,800 characters as one $or
    patterns = compile_filters(expr)
    assert 1 < len(patterns) <= 5
    assert all(len(json.dumps(p, separators=(",", ":"))) <= 4096 for p in patterns)
    record = {"eventName": "INSERT", "dynamodb": {NEW: {"a17": {"S": "v" * 300}}}}
    assert expr.matches(record)
    assert (
        sum(FilterCriteria(patterns).filters[i].matches(record) for i in range(len(patterns))) == 1
    )


def test_filter_limits() -> None:
    expr = _long_or(80)
    with pytest.raises(LimitExceeded, match="request the quota increase"):
        compile_filters(expr)
    assert len(compile_filters(expr, max_filters=10)) <= 10
    with pytest.raises(LimitExceeded, match="longer than Lambda's 4096"):
        compile_filters(new_image("a") == "v" * 5000)


def test_reserved_names_inside_or_fall_back_to_separate_filters() -> None:
    expr = (new_image("prefix") == "x") | (event_name == "INSERT")
    patterns = compile_filters(expr)
    assert sorted(patterns, key=json.dumps) == sorted(
        [{"eventName": ["INSERT"]}, ddb(NEW, {"prefix": {"S": ["x"]}})], key=json.dumps
    )


def test_or_combinations_stay_under_event_ruler_limit() -> None:
    expr: Expression = event_name == "INSERT"
    for i in range(4):  # 4 ANDed ORs of 6 branches: 1296 combinations as nested $or
        part = new_image(f"a{i}") == "x"
        for j in range(5):
            part = part | (old_image(f"b{i}{j}") == "y")
        expr = expr & part
    patterns = compile_filters(expr, max_filters=10)
    for pattern in patterns:
        assert FilterCriteria([pattern]).filters  # the pattern layer accepts each one


def test_compile_is_deterministic() -> None:
    expr = new_image("a").is_in("z", "y", "x") & ~(new_image("b") == "q")
    assert json.dumps(compile_filters(expr)) == json.dumps(compile_filters(expr))
    assert compile_filters(expr)[0]["dynamodb"][NEW]["a"] == {"S": ["x", "y", "z"]}
