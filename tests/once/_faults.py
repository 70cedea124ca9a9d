"""Scripted faults in a boto3 client's PutItem calls."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError


class PutFaults:
    """Answers PutItem with the scripted faults: ``throttle`` before it is sent, ``lost`` after
    it landed."""

    def __init__(self, client: Any, script: list[str]) -> None:
        self.script, self.client = script, client
        client.meta.events.register("before-call.dynamodb.PutItem", self.before)
        client.meta.events.register("after-call.dynamodb.PutItem", self.after)

    def close(self) -> None:
        self.client.meta.events.unregister("before-call.dynamodb.PutItem", self.before)
        self.client.meta.events.unregister("after-call.dynamodb.PutItem", self.after)

    def before(self, **_: Any) -> None:
        if self.script and self.script[0] == "throttle":
            self.script.pop(0)
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "PutItem")

    def after(self, **_: Any) -> None:
        if self.script and self.script[0] == "lost":
            self.script.pop(0)
            raise ConnectionClosedError(endpoint_url="http://injected")
