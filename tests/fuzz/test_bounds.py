"""The fuzz harness itself fails where it should."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ddbstream import DecodeError

from ._bounds import call_bounded


def test_a_typed_error_is_returned() -> None:
    def bad() -> None:
        raise DecodeError("bad")

    assert isinstance(call_bounded(bad), DecodeError)


def test_a_builtin_error_fails_the_check() -> None:
    with pytest.raises(AssertionError, match="KeyError"):
        call_bounded({}.__getitem__, "x")


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_slow_call_fails_the_check() -> None:
    with pytest.raises(AssertionError, match="took"):
        call_bounded(_spin, 0.3, seconds=0.1)


def test_a_blocked_call_is_interrupted() -> None:
    with pytest.raises(AssertionError, match="hung"):
        call_bounded(time.sleep, 5, seconds=0.1, hang_after=0.2)


def test_mutating_an_argument_fails_the_check() -> None:
    def mutate(event: dict[str, Any]) -> None:
        event["Records"] = []

    with pytest.raises(AssertionError, match="changed its arguments"):
        call_bounded(mutate, {"Records": [1]})
