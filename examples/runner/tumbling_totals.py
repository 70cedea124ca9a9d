"""A tumbling-window handler: state carried between invocations, flushed on the final invoke."""

from __future__ import annotations

from typing import Any

RESULTS: list[dict[str, Any]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = dict(event["state"])
    for record in event["Records"]:
        if "NewImage" in record["dynamodb"]:
            state["total"] = state.get("total", 0) + int(
                record["dynamodb"]["NewImage"]["amount"]["N"]
            )
    if event["isFinalInvokeForWindow"]:
        RESULTS.append({"window": event["window"], "total": state.get("total", 0)})
    return {"state": state}  # without "state" Lambda counts the invocation as failed
