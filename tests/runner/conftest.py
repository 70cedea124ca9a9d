"""Shared fixtures of the runner tests: one DynamoDB Local per session and fresh tables."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_names = itertools.count()


@pytest.fixture(scope="session")
def ddb(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's DynamoDB Local: the ddbstream plugin's when it provides one."""
    try:
        yield request.getfixturevalue("dynamodb_local")
        return
    except pytest.FixtureLookupError:
        pass
    from ddbstream.testing._local import DynamoDBLocal

    try:
        server = DynamoDBLocal().start()
    except Exception as exc:  # no java / no jar: these tests cannot run here
        pytest.skip(f"DynamoDB Local unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ddb_client(ddb: Any) -> Any:
    return ddb.client()


@pytest.fixture(scope="session")
def streams_client(ddb: Any) -> Any:
    return ddb.streams_client()


@pytest.fixture
def table(ddb_client: Any) -> Callable[..., str]:
    """``table(view="NEW_AND_OLD_IMAGES", sort_key=False)`` creates a fresh streamed table."""

    def make(view: str = "NEW_AND_OLD_IMAGES", *, sort_key: bool = False) -> str:
        name = f"runner_{next(_names)}"
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
        if sort_key:
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
            attrs.append({"AttributeName": "sk", "AttributeType": "N"})
        ddb_client.create_table(
            TableName=name,
            KeySchema=keys,
            AttributeDefinitions=attrs,
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )
        return name

    return make


@pytest.fixture
def put(ddb_client: Any) -> Callable[..., None]:
    """``put(table, pk, **attrs)`` writes one item (numbers as N, strings as S)."""

    def write(table: str, pk: str, **attrs: Any) -> None:
        item: dict[str, Any] = {"pk": {"S": pk}}
        for name, value in attrs.items():
            item[name] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
        ddb_client.put_item(TableName=table, Item=item)

    return write
