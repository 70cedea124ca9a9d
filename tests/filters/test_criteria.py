"""FilterCriteria: the Lambda/CloudFormation shape, the filter-count quota, OR semantics."""

from __future__ import annotations

import json

import pytest

from ddbstream import InvalidPattern, LimitExceeded, UsageError
from ddbstream.filters import Filter, FilterCriteria

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
