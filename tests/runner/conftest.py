"""Shared fixtures of the runner tests. DynamoDB Local comes from the ddbstream pytest plugin
(one server per session); tables from its ``make_table`` fixture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def put(dynamodb_client: Any) -> Callable[..., None]:
    """``put(table, *pks, **attrs)`` writes items (ints as N, the rest as S), in order."""

    def write(table: str, *pks: str, **attrs: Any) -> None:
        for pk in pks:
            item: dict[str, Any] = {"pk": {"S": pk}}
            for name, value in attrs.items():
                item[name] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
            dynamodb_client.put_item(TableName=table, Item=item)

    return write


@pytest.fixture
def runner_kwargs(dynamodb_endpoint: str) -> dict[str, Any]:
    """Runner options for fast tests against the session's DynamoDB Local."""
    return {
        "endpoint_url": dynamodb_endpoint,
        "region": "us-east-1",
        "poll_interval": 0.02,
        "retry_delay": 0.0,
    }
