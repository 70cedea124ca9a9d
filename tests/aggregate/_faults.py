"""Fault injection into a boto3 DynamoDB client through botocore event hooks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError
from hypothesis import strategies as st

from _delivery import Crash

WRITES = ("TransactWriteItems", "UpdateItem")


class Faults:
    """botocore event hooks injecting faults into the client's requests (writes by default)."""

    def __init__(
        self,
        client: Any,
        data: st.DataObject | None,
        budget: int,
        *,
        script: list[str] | None = None,
        operations: Iterable[str] = WRITES,
        code: str = "ThrottlingException",
    ) -> None:
        """Faults drawn from ``data`` (up to ``budget``), or taken in order from ``script``
        (entries like ``"before:fault"``, ``"after:crash"``, ``"after:ok"``).

        The drawn faults are drawn here, all at once, and handed to the requests in the order
        they are sent: how many requests a run sends depends on DynamoDB Local's answers, and
        drawing per request would make Hypothesis's data generation depend on them.
        """
        self.left, self.client = budget, client
        self.plan: list[str] = []
        if data is not None and budget > 0:
            kinds = st.sampled_from(("ok", "ok", "fault", "crash"))
            self.plan = data.draw(st.lists(kinds, max_size=4 * budget), label="faults")
        self.script = list(script or [])
        self.operations = tuple(operations)
        self.code = code
        self.calls = 0
        self.sent: list[str] = []
        for event in ("before-call", "after-call"):
            for op in self.operations:
                client.meta.events.register(f"{event}.dynamodb.{op}", getattr(self, event[:-5]))

    def close(self) -> None:
        for event in ("before-call", "after-call"):
            for op in self.operations:
                name = f"{event}.dynamodb.{op}"
                self.client.meta.events.unregister(name, getattr(self, event[:-5]))

    def _draw(self, phase: str) -> str:
        if self.script:
            if self.script[0].startswith(phase + ":"):
                return self.script.pop(0).split(":")[1]
            return "ok"
        if not self.plan or self.left <= 0:
            return "ok"
        kind = self.plan.pop(0)
        if kind != "ok":
            self.left -= 1
        return kind

    def before(self, model: Any = None, **_: Any) -> None:
        self.calls += 1
        self.sent.append(getattr(model, "name", "?"))
        kind = self._draw("before")
        if kind == "fault":
            error = {"Error": {"Code": self.code, "Message": "injected"}}
            raise ClientError(error, getattr(model, "name", "?"))
        if kind == "crash":
            raise Crash("before the write")

    def after(self, **_: Any) -> None:
        kind = self._draw("after")
        if kind == "fault":
            raise ConnectionClosedError(endpoint_url="http://injected")  # landed, answer lost
        if kind == "crash":
            raise Crash("after the write, before the next one")
