"""Fault injection into a boto3 DynamoDB client through botocore event hooks."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError
from hypothesis import strategies as st

from ._simulate import Crash


class Faults:
    """botocore event hooks injecting faults into TransactWriteItems / UpdateItem calls."""

    def __init__(
        self,
        client: Any,
        data: st.DataObject | None,
        budget: int,
        *,
        script: list[str] | None = None,
    ) -> None:
        """Faults drawn from ``data`` (up to ``budget``), or taken in order from ``script``
        (entries like ``"before:fault"``, ``"after:crash"``, ``"after:ok"``)."""
        self.data, self.left, self.client = data, budget, client
        self.script = list(script or [])
        self.calls = 0
        for event in ("before-call", "after-call"):
            for op in ("TransactWriteItems", "UpdateItem"):
                client.meta.events.register(f"{event}.dynamodb.{op}", getattr(self, event[:-5]))

    def close(self) -> None:
        for event in ("before-call", "after-call"):
            for op in ("TransactWriteItems", "UpdateItem"):
                name = f"{event}.dynamodb.{op}"
                self.client.meta.events.unregister(name, getattr(self, event[:-5]))

    def _draw(self, phase: str) -> str:
        if self.script:
            if self.script[0].startswith(phase + ":"):
                return self.script.pop(0).split(":")[1]
            return "ok"
        if self.data is None or self.left <= 0:
            return "ok"
        kind = self.data.draw(st.sampled_from(("ok", "ok", "fault", "crash")), label=phase)
        if kind != "ok":
            self.left -= 1
        return kind

    def before(self, **_: Any) -> None:
        self.calls += 1
        kind = self._draw("before")
        if kind == "fault":
            error = {"Error": {"Code": "ThrottlingException", "Message": "injected"}}
            raise ClientError(error, "TransactWriteItems")
        if kind == "crash":
            raise Crash("before the write")

    def after(self, **_: Any) -> None:
        kind = self._draw("after")
        if kind == "fault":
            raise ConnectionClosedError(endpoint_url="http://injected")  # landed, answer lost
        if kind == "crash":
            raise Crash("after the write, before the next one")
