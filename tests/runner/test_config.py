"""EventSourceMapping: AWS's defaults and ranges, with messages naming the setting."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import LimitExceeded, UsageError
from ddbstream.runner import EventSourceMapping

RANGES = {
    "batch_size": (1, 10_000),
    "maximum_batching_window_in_seconds": (0, 300),
    "parallelization_factor": (1, 10),
    "tumbling_window_in_seconds": (0, 900),
    "maximum_retry_attempts": (0, 10_000),
    "maximum_record_age_in_seconds": (60, 604_800),
}


def test_defaults_are_aws_defaults() -> None:
    m = EventSourceMapping()
    assert (m.batch_size, m.maximum_batching_window_in_seconds, m.maximum_retry_attempts) == (
        100,
        0,
        -1,
    )
    assert (
        m.maximum_record_age_in_seconds,
        m.parallelization_factor,
        m.tumbling_window_in_seconds,
    ) == (-1, 1, 0)
    assert m.function_response_types == ()
    assert m.bisect_batch_on_function_error is False
    assert m.report_batch_item_failures is False
    assert repr(m) == "EventSourceMapping()"


@pytest.mark.parametrize(("name", "bounds"), RANGES.items())
def test_out_of_range_names_the_setting(name: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    for bad in (low - 1, high + 1):
        if bad == -1 and name in ("maximum_retry_attempts", "maximum_record_age_in_seconds"):
            continue
        with pytest.raises(LimitExceeded, match=f"^{name}={bad} must be {low}..{high}"):
            EventSourceMapping(**{name: bad})


@given(st.sampled_from(sorted(RANGES)), st.data())
def test_in_range_accepted(name: str, data: st.DataObject) -> None:
    low, high = RANGES[name]
    value = data.draw(st.integers(low, high))
    kwargs: dict[str, Any] = {name: value}
    if name == "tumbling_window_in_seconds":
        kwargs["parallelization_factor"] = 1
    assert getattr(EventSourceMapping(**kwargs), name) == value


def test_record_age_rejects_0_to_59() -> None:
    with pytest.raises(LimitExceeded, match=r"60\.\.604800 or -1"):
        EventSourceMapping(maximum_record_age_in_seconds=30)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": "10"},
        {"batch_size": True},
        {"starting_position": "AT_TIMESTAMP"},
        {"function_response_types": "ReportBatchItemFailures"},
        {"function_response_types": ("Other",)},
        {"bisect_batch_on_function_error": 1},
        {"tumbling_window_in_seconds": 10, "parallelization_factor": 2},
        {"filter_criteria": 42},
    ],
)
def test_usage_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        EventSourceMapping(**kwargs)


def test_from_dict_takes_aws_names_and_repr_is_the_constructor() -> None:
    m = EventSourceMapping.from_dict(
        {
            "FunctionName": "f",
            "BatchSize": 10,
            "StartingPosition": "LATEST",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True,
        }
    )
    assert m == EventSourceMapping(
        batch_size=10,
        starting_position="LATEST",
        function_response_types=("ReportBatchItemFailures",),
        bisect_batch_on_function_error=True,
    )
    assert eval(repr(m), {"EventSourceMapping": EventSourceMapping}) == m
    assert m.report_batch_item_failures


def test_filter_criteria_dict_becomes_filter_criteria() -> None:
    pattern = json.dumps({"eventName": ["INSERT"]})
    m = EventSourceMapping(filter_criteria={"Filters": [{"Pattern": pattern}]})
    assert m.filter_criteria.matches({"eventName": "INSERT", "dynamodb": {}})
    assert not m.filter_criteria.matches({"eventName": "REMOVE", "dynamodb": {}})


def test_too_many_filters() -> None:
    filters = [{"Pattern": json.dumps({"eventName": [f"X{i}"]})} for i in range(6)]
    with pytest.raises(LimitExceeded):
        EventSourceMapping(filter_criteria={"Filters": filters})
