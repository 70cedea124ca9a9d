"""The shared names: event names and view types are the strings AWS sends; a condition is an
object with ``matches`` or a function; the Lambda context protocol fits every context we know."""

from __future__ import annotations

from typing import Any

import pytest

from ddbstream import Condition, EventName, LambdaContext, StreamViewType, UsageError
from ddbstream._types import predicate_of
from ddbstream.filters import event_name
from ddbstream.runner import LambdaContext as RunnerContext
from ddbstream.testing import FakeLambdaContext


def test_event_names_and_view_types_are_the_aws_strings() -> None:
    assert [str(n) for n in EventName] == ["INSERT", "MODIFY", "REMOVE"]
    assert EventName("MODIFY") == "MODIFY"
    assert StreamViewType.NEW_AND_OLD_IMAGES == "NEW_AND_OLD_IMAGES"


def test_a_condition_becomes_a_predicate() -> None:
    def is_big(record: Any) -> bool:
        return True

    expression: Condition = event_name == "INSERT"
    assert predicate_of(None) is None
    assert predicate_of(is_big) is is_big
    assert predicate_of(expression) == expression.matches
    with pytest.raises(UsageError, match=r"condition must have a \.matches"):
        predicate_of("status == 'x'")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "context", [FakeLambdaContext(remaining_ms=5), RunnerContext(function_name="f")]
)
def test_every_context_we_ship_is_a_lambda_context(context: LambdaContext) -> None:
    assert isinstance(context.function_name, str)
    assert context.get_remaining_time_in_millis() >= 0
