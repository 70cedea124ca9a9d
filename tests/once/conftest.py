"""Fixtures of the once tests: a clock tests move, and both stores (in memory, DynamoDB Local)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ddbstream.once import DynamoDBOutbox, DynamoDBStore, MemoryOutbox, MemoryStore, Outbox, Store


class Clock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store_table(dynamodb_client: Any) -> Iterator[str]:
    """A claims table on DynamoDB Local, made by DynamoDBStore.create_table (deleted after)."""
    name = f"once-{uuid.uuid4().hex[:12]}"
    DynamoDBStore(name, client=dynamodb_client).create_table()
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def outbox_table(dynamodb_client: Any) -> Iterator[str]:
    """An outbox table on DynamoDB Local, made by DynamoDBOutbox.create_table (deleted after)."""
    name = f"outbox-{uuid.uuid4().hex[:12]}"
    DynamoDBOutbox(name, client=dynamodb_client).create_table()
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture(params=["memory", "dynamodb"])
def make_store(request: pytest.FixtureRequest, clock: Clock) -> Callable[[], Store]:
    """Both stores, on the test's clock."""
    if request.param == "memory":
        return lambda: MemoryStore(clock=clock)
    client = request.getfixturevalue("dynamodb_client")
    table = request.getfixturevalue("store_table")
    return lambda: DynamoDBStore(table, client=client, clock=clock)


@pytest.fixture(params=["memory", "dynamodb"])
def make_outbox(request: pytest.FixtureRequest) -> Callable[[], Outbox]:
    if request.param == "memory":
        return MemoryOutbox
    client = request.getfixturevalue("dynamodb_client")
    table = request.getfixturevalue("outbox_table")
    return lambda: DynamoDBOutbox(table, client=client)
