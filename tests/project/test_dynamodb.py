"""ddbstream.project.DynamoDBSink on DynamoDB Local: versions, tombstones, the requests it sends,
and the property under injected faults (crashes between writes, lost answers, throttling) and
concurrent delivery lanes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _delivery import Crash, play
from ddbstream import UsageError
from ddbstream.aggregate import Retry
from ddbstream.project import DynamoDBSink, Projection
from ddbstream.testing import EventBuilder
from ddbstream.testing.strategies import change_histories, deliveries

from ._kit import ITEMS, KEYS, Armed, copy_of, expected, moving

FAST = Retry(attempts=6, base=0.0)
FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
WRITES = ("PutItem", "DeleteItem", "TransactWriteItems")
B = EventBuilder("Users", keys=("UserId",))


def search(image: Any) -> dict[str, Any]:
    return {"UserId": image["UserId"], "Name": image["Name"]}


@pytest.fixture
def sink_for(make_table: Any, dynamodb_client: Any) -> Callable[..., DynamoDBSink]:
    def make(key: str = "UserId", **options: Any) -> DynamoDBSink:
        table = make_table(
            key_schema=[{"AttributeName": key, "KeyType": "HASH"}], stream_view_type=None
        )
        sink = DynamoDBSink(table.name, key=key, client=dynamodb_client, **options)
        sink.create_tombstone_table()
        return sink

    return make


@pytest.fixture
def sent(dynamodb_client: Any) -> Iterator[list[str]]:
    """The names of the write requests (and item reads) the client sends."""
    names: list[str] = []

    def record(model: Any = None, **_: Any) -> None:
        names.append(model.name)

    for op in (*WRITES, "GetItem"):
        dynamodb_client.meta.events.register(f"before-call.dynamodb.{op}", record)
    yield names
    for op in (*WRITES, "GetItem"):
        dynamodb_client.meta.events.unregister(f"before-call.dynamodb.{op}", record)


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=table, ConsistentRead=True)["Items"], key=repr)


def test_create_update_delete_and_a_late_replay(
    sink_for: Any, dynamodb_client: Any, sent: list[str]
) -> None:
    sink = sink_for()
    projection = Projection(search, sink=sink, retry=FAST)
    a, b = {"UserId": "u1", "Name": "Ann", "Age": 3}, {"UserId": "u1", "Name": "Ann B", "Age": 4}
    insert, change, delete = B.insert(a), B.modify(a, b), B.remove(b)

    assert projection.apply(B.lambda_event([insert])).ok
    assert sent == ["GetItem", "PutItem"]  # a creation reads the tombstone first
    [item] = scan(dynamodb_client, sink.table)
    assert item["Name"] == {"S": "Ann"}
    assert item["_version"] == {"S": insert["dynamodb"]["SequenceNumber"].zfill(40)}
    assert set(item) == {"UserId", "Name", "_version"}

    sent.clear()
    assert projection.apply(B.lambda_event([change])).ok
    assert sent == ["PutItem"]  # an update is one conditional put
    assert scan(dynamodb_client, sink.table)[0]["Name"] == {"S": "Ann B"}

    sent.clear()
    again = projection.apply(B.lambda_event([insert, change]))  # redelivered
    assert (again.ok, again.writes, again.duplicates) == (True, 0, 2)

    sent.clear()
    assert projection.apply(B.lambda_event([delete])).ok
    assert sent == ["PutItem", "DeleteItem"]  # the tombstone, then the item
    assert scan(dynamodb_client, sink.table) == []
    [tombstone] = scan(dynamodb_client, sink.tombstone_table)
    assert tombstone["_version"] == {"S": delete["dynamodb"]["SequenceNumber"].zfill(40)}

    replay = projection.apply(B.lambda_event([insert, change]))
    assert replay.ok
    assert scan(dynamodb_client, sink.table) == []  # the tombstone keeps it deleted

    back = {"UserId": "u1", "Name": "Ann C"}
    assert projection.apply(B.lambda_event([B.insert(back)])).ok  # a newer creation wins
    assert [i["Name"] for i in scan(dynamodb_client, sink.table)] == [{"S": "Ann C"}]


def test_without_tombstones_deletes_are_one_conditional_delete(
    sink_for: Any, dynamodb_client: Any, sent: list[str]
) -> None:
    sink = sink_for(tombstones=False)
    projection = Projection(search, sink=sink, retry=FAST)
    a = {"UserId": "u1", "Name": "Ann"}
    assert projection.apply(B.lambda_event([B.insert(a), B.remove(a)])).ok
    assert sent == ["DeleteItem"]  # coalesced: the item's newest change only
    assert scan(dynamodb_client, sink.table) == []


def test_a_missing_tombstone_table_is_a_usage_error(make_table: Any, dynamodb_client: Any) -> None:
    table = make_table(key_schema=[{"AttributeName": "UserId", "KeyType": "HASH"}])
    sink = DynamoDBSink(table.name, key="UserId", client=dynamodb_client, tombstones="NoSuchTable")
    projection = Projection(search, sink=sink, retry=FAST)
    with pytest.raises(UsageError, match="create_tombstone_table"):
        projection.apply(B.lambda_event([B.insert({"UserId": "u1", "Name": "Ann"})]))


def test_create_tombstone_table_is_idempotent(sink_for: Any, dynamodb_client: Any) -> None:
    sink = sink_for()
    sink.create_tombstone_table()
    ttl = dynamodb_client.describe_time_to_live(TableName=sink.tombstone_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "_expires"
    dynamodb_client.delete_table(TableName=sink.tombstone_table)


def test_an_item_dynamodb_refuses_fails_its_records_alone(sink_for: Any) -> None:
    sink = sink_for()
    projection = Projection(
        lambda image: {"UserId": image["UserId"], "Blob": "x" * int(image["Size"]) * 1024},
        sink=sink,
        retry=FAST,
    )
    big, small = {"UserId": "u1", "Size": 500}, {"UserId": "u2", "Size": 1}
    event = B.lambda_event([B.insert(big), B.insert(small)])
    result = projection.apply(event)
    assert result.failed == (event["Records"][0]["dynamodb"]["SequenceNumber"],)
    assert "refused" in str(result.errors[0])


class Faults:
    """botocore hooks: throttling before a write, a lost answer after it, or the crash that
    ``armed`` holds; the faults come from a script drawn up front (writes may run in threads)."""

    def __init__(self, client: Any, script: list[str], armed: Armed) -> None:
        self.client, self.script, self.armed = client, script, armed
        self.lock = threading.Lock()
        for op in WRITES:
            client.meta.events.register(f"before-call.dynamodb.{op}", self.before)
            client.meta.events.register(f"after-call.dynamodb.{op}", self.after)

    def close(self) -> None:
        for op in WRITES:
            self.client.meta.events.unregister(f"before-call.dynamodb.{op}", self.before)
            self.client.meta.events.unregister(f"after-call.dynamodb.{op}", self.after)

    def _next(self) -> str:
        return self.script.pop(0) if self.script else "ok"

    def before(self, model: Any = None, **_: Any) -> None:
        with self.lock:
            self.armed.before()
            fault = self._next()
        if fault == "throttle":
            error = {"Error": {"Code": "ThrottlingException", "Message": "injected"}}
            raise ClientError(error, model.name)  # type: ignore[arg-type]

    def after(self, **_: Any) -> None:
        with self.lock:
            self.armed.after()
            fault = self._next()
        if fault == "lost":
            raise ConnectionClosedError(endpoint_url="http://injected")  # landed, answer lost


@FIXTURES
@given(data=st.data(), function=st.sampled_from([copy_of, moving]))
def test_the_table_is_the_projection_of_the_source_under_faults_and_lanes(
    data: st.DataObject, function: Any, sink_for: Any, dynamodb_client: Any
) -> None:
    history = data.draw(change_histories(keys=KEYS, attributes=ITEMS, max_changes=30))
    factor = data.draw(st.integers(1, 3), label="parallelization_factor")
    schedule = data.draw(
        deliveries(
            history.records, parallelization_factor=factor, max_faults=10, bisect_on_error=True
        )
    )
    concurrency = data.draw(st.sampled_from((1, 3)), label="concurrency")
    sink = sink_for("pk", concurrency=concurrency)
    armed = Armed()
    script = data.draw(
        st.lists(st.sampled_from(["ok", "ok", "ok", "throttle", "lost"]), max_size=30),
        label="faults",
    )
    faults = Faults(dynamodb_client, script, armed)
    try:
        projection = Projection(function, sink=sink, retry=FAST)
        play(schedule, lambda event: projection.handle(event, None), armed.arm)
    finally:
        faults.close()
    stored = [
        {k: _plain(v) for k, v in item.items() if not k.startswith("_")}
        for item in scan(dynamodb_client, sink.table)
    ]
    assert sorted(stored, key=lambda i: str(i["pk"])) == expected(history.final_table, function)
    assert Crash


def _plain(value: dict[str, Any]) -> Any:
    from ddbstream import deserialize
    from ddbstream._aws import from_client

    out = deserialize(from_client(value))
    return int(out) if isinstance(out, Decimal) and out == int(out) else out


def test_a_composite_numeric_key_and_its_tombstone(make_table: Any, dynamodb_client: Any) -> None:
    table = make_table(
        key_schema=[
            {"AttributeName": "Tenant", "KeyType": "HASH"},
            {"AttributeName": "Rank", "KeyType": "RANGE"},
        ],
        attribute_definitions=[{"AttributeName": "Rank", "AttributeType": "N"}],
        stream_view_type=None,
    )
    sink = DynamoDBSink(table.name, key=("Tenant", "Rank"), client=dynamodb_client)
    sink.create_tombstone_table()
    projection = Projection(
        lambda u: {"Tenant": u["Tenant"], "Rank": u["Rank"], "Name": u["Name"]},
        sink=sink,
        retry=FAST,
    )
    builder = EventBuilder("Users", keys=("UserId",))
    ann = {"UserId": "u1", "Tenant": "t1", "Rank": 7, "Name": "Ann"}
    promoted = {**ann, "Rank": 1}
    history = [builder.insert(ann), builder.modify(ann, promoted)]
    assert projection.apply(builder.lambda_event(history)).ok
    assert [i["Rank"] for i in scan(dynamodb_client, table.name)] == [{"N": "1"}]
    assert projection.apply(builder.lambda_event([builder.remove(promoted)])).ok
    assert projection.apply(builder.lambda_event(history)).ok  # a late replay
    assert scan(dynamodb_client, table.name) == []
    assert len(scan(dynamodb_client, sink.tombstone_table)) == 2  # the move left one too
    dynamodb_client.delete_table(TableName=sink.tombstone_table)
