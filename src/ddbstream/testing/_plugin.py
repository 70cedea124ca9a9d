"""pytest plugin of ddbstream: DynamoDB Local fixtures, loaded through the ``pytest11`` entry point.

Fixtures:

* ``dynamodb_local`` (session): a running :class:`~ddbstream.testing.DynamoDBLocal`, started on
  first use and stopped at the end of the session. With ``DDBSTREAM_DYNAMODB_ENDPOINT`` set, the
  server already running there is used instead (and left running), e.g. one started by
  ``python -m ddbstream.testing start`` and shared by pytest-xdist workers.
* ``dynamodb_endpoint`` (session): its URL.
* ``dynamodb_client`` / ``dynamodbstreams_client`` (session): boto3 clients bound to it.
* ``dynamodb_env`` (function): sets ``AWS_ENDPOINT_URL`` and dummy credentials for the test, so
  code that builds its own boto3 clients talks to DynamoDB Local.
* ``make_table`` (function): a factory of tables with streams, deleted after the test.

Tests that use any of them get the ``dynamodb_local`` marker, so ``-m "not dynamodb_local"``
deselects them. This module imports only pytest and the standard library when loaded.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

    from ._local import DynamoDBLocal

__all__ = ["LocalTable", "MakeTable"]

_ENDPOINT_ENV = "DDBSTREAM_DYNAMODB_ENDPOINT"
_FIXTURES = frozenset(
    {"dynamodb_local", "dynamodb_endpoint", "dynamodb_client", "dynamodbstreams_client"}
    | {"dynamodb_env", "make_table"}
)


@dataclass(frozen=True, slots=True)
class LocalTable:
    """A table created by the ``make_table`` fixture.

    Attributes:
        name: the table name.
        arn: the table ARN.
        stream_arn: the ARN of its stream, or None when created without one.
        stream_view_type: ``KEYS_ONLY``, ``NEW_IMAGE``, ``OLD_IMAGE``, ``NEW_AND_OLD_IMAGES``
            or None.
    """

    name: str
    arn: str
    stream_arn: str | None = None
    stream_view_type: str | None = None


#: The ``make_table`` fixture's type, for annotating test parameters.
MakeTable = Callable[..., LocalTable]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "dynamodb_local: needs DynamoDB Local (started once per session by the ddbstream plugin)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dynamodb_local)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    """A running DynamoDB Local for the session (or the one at ``$DDBSTREAM_DYNAMODB_ENDPOINT``)."""
    from ._local import DynamoDBLocal

    endpoint = os.environ.get(_ENDPOINT_ENV)
    if endpoint:
        yield DynamoDBLocal.connect(endpoint)
        return
    with DynamoDBLocal() as server:
        yield server


@pytest.fixture(scope="session")
def dynamodb_endpoint(dynamodb_local: DynamoDBLocal) -> str:
    """The endpoint URL of the session's DynamoDB Local, e.g. ``http://127.0.0.1:41017``."""
    return dynamodb_local.endpoint_url


@pytest.fixture(scope="session")
def dynamodb_client(dynamodb_local: DynamoDBLocal) -> DynamoDBClient:
    """A boto3 ``dynamodb`` client bound to DynamoDB Local."""
    return dynamodb_local.client()


@pytest.fixture(scope="session")
def dynamodbstreams_client(dynamodb_local: DynamoDBLocal) -> DynamoDBStreamsClient:
    """A boto3 ``dynamodbstreams`` client bound to DynamoDB Local."""
    return dynamodb_local.streams_client()


@pytest.fixture
def dynamodb_env(dynamodb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point boto3 at DynamoDB Local for this test (``AWS_ENDPOINT_URL``, dummy credentials).

    Profile and session-token variables are removed so real credentials cannot leak in.
    Returns the variables that were set.
    """
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    env = dynamodb_local.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def make_table(dynamodb_client: DynamoDBClient) -> Iterator[MakeTable]:
    """Factory of PAY_PER_REQUEST tables with a stream, each deleted after the test.

    ``make_table(name=None, *, key_schema=None, attribute_definitions=None,
    stream_view_type="NEW_AND_OLD_IMAGES")``: ``name`` defaults to a unique
    ``ddbstream-<hex>``; ``key_schema`` defaults to a string hash key ``pk``; attribute types
    default to ``S`` for key attributes missing from ``attribute_definitions``;
    ``stream_view_type=None`` creates no stream. Returns a :class:`LocalTable` once ACTIVE.
    """
    created: list[str] = []

    def factory(
        name: str | None = None,
        *,
        key_schema: Sequence[Mapping[str, str]] | None = None,
        attribute_definitions: Sequence[Mapping[str, str]] | None = None,
        stream_view_type: str | None = "NEW_AND_OLD_IMAGES",
    ) -> LocalTable:
        table_name = name if name is not None else f"ddbstream-{uuid.uuid4().hex[:12]}"
        keys = tuple(dict(k) for k in (key_schema or ({"AttributeName": "pk", "KeyType": "HASH"},)))
        definitions = {d["AttributeName"]: dict(d) for d in attribute_definitions or ()}
        for key in keys:
            definitions.setdefault(
                key["AttributeName"], {"AttributeName": key["AttributeName"], "AttributeType": "S"}
            )
        request: dict[str, Any] = {
            "TableName": table_name,
            "KeySchema": list(keys),
            "AttributeDefinitions": list(definitions.values()),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if stream_view_type is not None:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream_view_type,
            }
        dynamodb_client.create_table(**request)
        created.append(table_name)
        table = _wait_active(dynamodb_client, table_name)
        return LocalTable(
            name=table_name,
            arn=table["TableArn"],
            stream_arn=table.get("LatestStreamArn") if stream_view_type else None,
            stream_view_type=stream_view_type,
        )

    yield factory
    for table_name in created:
        # the test may have deleted it already
        with contextlib.suppress(dynamodb_client.exceptions.ResourceNotFoundException):
            dynamodb_client.delete_table(TableName=table_name)


def _wait_active(client: DynamoDBClient, table_name: str, *, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        table = client.describe_table(TableName=table_name)["Table"]
        if table.get("TableStatus") == "ACTIVE":
            return table
        if time.monotonic() > deadline:
            from .._errors import UsageError

            raise UsageError(f"table {table_name!r} is not ACTIVE after {timeout:g} s")
        time.sleep(0.05)
