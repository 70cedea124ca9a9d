"""Fixtures of the aggregate tests: tables on DynamoDB Local (the plugin's session server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ._ddb import make_tables


@pytest.fixture
def tables(dynamodb_client: Any) -> Iterator[Any]:
    """``tables(key="Group", sort_key=None) -> name``: tables deleted after the test."""
    yield from make_tables(dynamodb_client)
