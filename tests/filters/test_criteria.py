"""FilterCriteria: the Lambda/CloudFormation shape, the filter-count quota, OR semantics, DSL
expressions compiled in place and local predicates refused."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ddbstream import FilterNotExpressible, InvalidPattern, LimitExceeded, UsageError
from ddbstream.filters import (
    Filter,
    FilterCriteria,
    changed,
    event_name,
    new_image,
    where,
)

INSERT = Filter.from_pattern({"eventName": ["INSERT"]})
SHIPPED = Filter.from_pattern({"dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]}}}})


def test_to_dict_is_exactly_what_lambda_takes() -> None:
    criteria = FilterCriteria([INSERT, SHIPPED])
    assert criteria.to_dict() == {
        "Filters": [
            {"Pattern": '{"eventName":["INSERT"]}'},
            {"Pattern": '{"dynamodb":{"NewImage":{"status":{"S":["SHIPPED"]}}}}'},
        ]
    }
    assert criteria.to_json() == json.dumps(criteria.to_dict(), separators=(",", ":"))
    assert criteria.filters == (INSERT, SHIPPED)
    assert list(criteria) == [INSERT, SHIPPED]


def test_round_trips_and_cdk_lower_case_shape() -> None:
    criteria = FilterCriteria([INSERT, SHIPPED])
    assert FilterCriteria.from_dict(criteria.to_dict()) == criteria
    assert FilterCriteria.from_json(criteria.to_json()) == criteria
    cdk = {"filters": [{"pattern": INSERT.to_json()}, {"pattern": SHIPPED.to_pattern()}]}
    assert FilterCriteria.from_dict(cdk) == criteria
    assert FilterCriteria.from_dict({}) == FilterCriteria()


def test_from_dict_reports_where_the_problem_is() -> None:
    with pytest.raises(InvalidPattern) as info:
        FilterCriteria.from_dict({"Filters": [{"Pattern": "{}"}, {"Pattern": '{"a": []}'}]})
    assert info.value.path == ("Filters", 0, "Pattern")
    with pytest.raises(InvalidPattern) as info:
        FilterCriteria.from_dict(
            {"Filters": [{"Pattern": '{"a": ["x"]}'}, {"Pattern": '{"a": []}'}]}
        )
    assert info.value.path == ("Filters", 1, "Pattern", "a")
    for bad in ({"Filters": {}}, {"Filters": [], "x": 1}, {"Filters": [{"pattern": "{}"}]}, []):
        with pytest.raises(InvalidPattern):
            FilterCriteria.from_dict(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidPattern, match="not valid JSON"):
        FilterCriteria.from_json("{")


def test_five_filters_by_default_ten_with_the_quota_flag() -> None:
    many = [Filter.from_pattern({"n": [str(i)]}) for i in range(10)]
    FilterCriteria(many[:5])
    with pytest.raises(LimitExceeded, match=r"6 filters exceed the limit of 5 .*max_filters="):
        FilterCriteria(many[:6])
    assert len(FilterCriteria(many, max_filters=10)) == 10
    with pytest.raises(LimitExceeded, match="11 filters exceed the limit of 10"):
        FilterCriteria([*many, INSERT], max_filters=10)
    for bad in (0, 11, True, "10"):
        with pytest.raises(UsageError):
            FilterCriteria(many[:1], max_filters=bad)  # type: ignore[arg-type]
    with pytest.raises(LimitExceeded):
        FilterCriteria.from_dict(FilterCriteria(many, max_filters=10).to_dict())


def test_matches_is_an_or_and_empty_criteria_pass_everything() -> None:
    criteria = FilterCriteria([INSERT, SHIPPED])
    assert criteria.matches({"eventName": "INSERT"})
    assert criteria.matches(
        {"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "SHIPPED"}}}}
    )
    assert not criteria.matches({"eventName": "MODIFY"})
    assert FilterCriteria().matches({"anything": 1})
    with pytest.raises(UsageError):
        FilterCriteria().matches(42)
    assert criteria.explain({"eventName": "INSERT"}) is None
    reason = criteria.explain({"eventName": "MODIFY"})
    assert reason is not None
    assert reason.startswith('filter 1: eventName: "MODIFY" does not match')


def test_patterns_are_accepted_in_place_of_filters() -> None:
    assert FilterCriteria(['{"eventName": ["INSERT"]}', {"eventName": ["INSERT"]}]).filters == (
        INSERT,
        INSERT,
    )
    with pytest.raises(UsageError, match="list of filters"):
        FilterCriteria(INSERT)  # type: ignore[arg-type]


def test_value_semantics_and_repr() -> None:
    a = FilterCriteria([INSERT])
    assert a == FilterCriteria([Filter.from_pattern('{"eventName":["INSERT"]}')])
    assert hash(a) == hash(FilterCriteria([INSERT], max_filters=7))
    assert repr(a) == """FilterCriteria([Filter.from_pattern('{"eventName":["INSERT"]}')])"""
    assert repr(FilterCriteria(max_filters=10)) == "FilterCriteria([], max_filters=10)"
    assert eval(repr(a), {"Filter": Filter, "FilterCriteria": FilterCriteria}) == a
    with pytest.raises(AttributeError):
        a.filters = ()  # type: ignore[misc]


@pytest.mark.parametrize("obj", [Filter, FilterCriteria], ids=lambda o: o.__name__)
def test_docstring_example_runs(obj: object) -> None:
    import doctest

    tests = doctest.DocTestFinder().find(obj)
    assert any(t.examples for t in tests)
    runner = doctest.DocTestRunner()
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


# -- DSL expressions ----------------------------------------------------------------------------


def test_expressions_compile_together_to_the_fewest_filters() -> None:
    criteria = FilterCriteria([event_name == "INSERT", event_name == "REMOVE"])
    assert criteria.to_dict() == {"Filters": [{"Pattern": '{"eventName":["INSERT","REMOVE"]}'}]}
    assert criteria == ((event_name == "INSERT") | (event_name == "REMOVE")).to_criteria()
    shipped = new_image("status") == "SHIPPED"
    mixed = FilterCriteria([SHIPPED, event_name == "INSERT", '{"a": ["b"]}', shipped])
    # the compiled filters take the place of the first expression; patterns keep their order
    assert mixed.filters == (
        SHIPPED,
        *((event_name == "INSERT") | shipped).to_criteria().filters,
        Filter.from_pattern({"a": ["b"]}),
    )
    assert len(mixed) == 3


def test_expressions_respect_max_filters() -> None:
    # every alternative is near the 4096-character limit, so each needs a filter of its own
    names = [new_image(f"a{i}") == "x" * 3000 for i in range(6)]
    wide = names[0] | names[1] | names[2] | names[3] | names[4] | names[5]
    with pytest.raises(LimitExceeded):
        FilterCriteria([wide])
    assert len(FilterCriteria([wide], max_filters=6)) == 6
    assert len(FilterCriteria(names[:5])) == 5
    with pytest.raises(LimitExceeded, match="6 filters exceed the limit of 5"):
        FilterCriteria([INSERT, *names[:5]])
    assert len(FilterCriteria([INSERT, *names[:5]], max_filters=6)) == 6


def test_local_predicates_are_refused_with_a_router_hint() -> None:
    local = [
        changed("status"),
        (event_name == "MODIFY") & changed("status"),
        (event_name == "INSERT") | where(lambda r: True),
    ]
    for predicate in local:
        mixes: list[list[Any]] = [
            [predicate],
            [INSERT, predicate],
            [event_name == "INSERT", predicate],
        ]
        for args in mixes:
            with pytest.raises(FilterNotExpressible, match="run only in the Router") as info:
                FilterCriteria(args)
            assert not isinstance(info.value, InvalidPattern)
        with pytest.raises(FilterNotExpressible, match="local predicate"):
            FilterCriteria(predicate)  # type: ignore[arg-type]


def test_inexpressible_expressions_and_single_objects() -> None:
    prefix = new_image("s").begins_with("a") & new_image("s").ends_with("b")
    with pytest.raises(FilterNotExpressible, match="AND of several conditions"):
        FilterCriteria([prefix])
    with pytest.raises(FilterNotExpressible, match="every record"):
        FilterCriteria([event_name == "INSERT", event_name != "INSERT"])
    with pytest.raises(UsageError, match="list of filters"):
        FilterCriteria(event_name == "INSERT")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="list of filters"):
        FilterCriteria(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidPattern, match="not int"):
        FilterCriteria([42])  # type: ignore[list-item]


def test_mypy_rejects_a_local_predicate(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    source = tmp_path / "use.py"
    source.write_text(
        "from ddbstream.filters import FilterCriteria, changed, event_name, to_criteria\n"
        "FilterCriteria([event_name == 'INSERT', {'eventName': ['REMOVE']}])\n"
        "FilterCriteria([changed('a')])\n"
        "FilterCriteria([(event_name == 'MODIFY') & changed('a')])\n"
        "FilterCriteria.from_expression(~changed('a'))\n"
        "to_criteria(changed('a') | (event_name == 'INSERT'))\n"
        "matched: bool = ((event_name == 'INSERT') & changed('a')).matches({})\n"
        "criteria: FilterCriteria = (event_name == 'INSERT').to_criteria()\n"
    )
    out, _, status = api.run(["--strict", "--cache-dir", os.devnull, str(source)])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1
    assert [e.split(":")[1] for e in errors] == ["3", "4", "5", "6"], out
    assert all('"LocalPredicate"' in e for e in errors), out


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ({"eventName": ["INSERT"]}, {"INSERT"}),
        ({"dynamodb": {"NewImage": {"s": {"S": ["x"]}}}}, {"INSERT", "MODIFY", "REMOVE"}),
        ({"eventName": [{"anything-but": "REMOVE"}]}, {"INSERT", "MODIFY"}),
        ({"eventName": [{"prefix": "MOD"}]}, {"MODIFY"}),
        ({"$or": [{"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]}]}, {"INSERT", "REMOVE"}),
        ({"eventName": ["aws:kinesis:record"]}, set()),
    ],
)
def test_event_names_are_the_kinds_a_filter_can_let_through(
    pattern: dict[str, object], names: set[str]
) -> None:
    assert Filter.from_pattern(pattern).event_names() == names


def test_criteria_event_names_are_the_union_and_everything_when_empty() -> None:
    criteria = FilterCriteria([{"eventName": ["INSERT"]}, {"eventName": ["MODIFY"]}])
    assert criteria.event_names() == {"INSERT", "MODIFY"}
    assert FilterCriteria([]).event_names() == {"INSERT", "MODIFY", "REMOVE"}


def test_from_expression_is_to_criteria() -> None:
    from ddbstream.filters import to_criteria

    expr = (event_name == "INSERT") | (new_image("status") == "SHIPPED")
    assert FilterCriteria.from_expression(expr) == to_criteria(expr) == expr.to_criteria()
    with pytest.raises(FilterNotExpressible, match="local-only"):
        FilterCriteria.from_expression(changed("a"))  # type: ignore[arg-type]


def test_criteria_match_with_one_function_for_all_filters() -> None:
    criteria = FilterCriteria([INSERT, SHIPPED])
    shipped = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "SHIPPED"}}}}
    records = [{"eventName": "INSERT"}, shipped, {"eventName": "REMOVE"}, {}]
    assert [criteria.matches(r) for r in records] == [
        INSERT.matches(r) or SHIPPED.matches(r) for r in records
    ]
    assert criteria.matches is criteria.matches
    assert FilterCriteria().matches({"anything": 1})
    with pytest.raises(UsageError):
        FilterCriteria().matches(42)


def test_criteria_pickle() -> None:
    import pickle

    criteria = FilterCriteria([INSERT, SHIPPED], max_filters=10)
    clone = pickle.loads(pickle.dumps(criteria))
    assert clone == criteria
    assert clone.max_filters == 10
    assert clone.matches({"eventName": "INSERT"})
