"""Static types of ddbstream.project: checked by ``mypy --strict tests/typing`` and pyright, and
executed by pytest. With ``model=`` the projection function receives the model and the
projection is a ``Projection[model]``; without, it receives an :class:`~ddbstream.Image`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from typing_extensions import assert_type

from ddbstream import BatchResponse, Image
from ddbstream.project import (
    Change,
    MemorySink,
    Outcome,
    Projection,
    ProjectionResult,
    Sink,
    Written,
)
from ddbstream.testing import insert, lambda_event


@dataclasses.dataclass
class User:
    UserId: str
    Name: str


def _entry(user: User) -> dict[str, Any]:
    return {"UserId": user.UserId, "Name": user.Name}


def _image_entry(image: Image) -> dict[str, Any]:
    return {"UserId": image["UserId"]}


def test_a_model_flows_into_the_function_and_the_projection() -> None:
    projection = Projection(_entry, sink=MemorySink(key="UserId"), model=User)
    assert_type(projection, Projection[User])
    event = lambda_event(insert({"UserId": "u1", "Name": "Ann"}))
    assert_type(projection.handle(event, None), BatchResponse)
    assert_type(projection.apply(event), ProjectionResult)


def test_without_a_model_the_function_takes_an_image() -> None:
    projection = Projection(_image_entry, sink=MemorySink(key="UserId"))
    assert_type(projection, Projection[Image])
    wrong = Projection(_entry, sink=MemorySink(key="UserId"))  # type: ignore[arg-type]
    assert wrong is not None


def test_a_user_sink_is_a_sink() -> None:
    class Printer:
        @property
        def name(self) -> str | None:
            return "printer"

        @property
        def key(self) -> tuple[str, ...]:
            return ("UserId",)

        def write(self, changes: Sequence[Change]) -> Sequence[Outcome]:
            return [Written() for _ in changes]

    sink: Sink = Printer()
    projection = Projection(_image_entry, sink=sink)
    assert projection.apply(lambda_event(insert({"UserId": "u1"}))).ok
