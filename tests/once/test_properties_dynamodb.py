"""The properties of ``test_properties.py`` on DynamoDB Local: ``DynamoDBStore`` and
``DynamoDBOutbox`` under any delivery schedule (crashes between writes, partial failures,
replays, ParallelizationFactor > 1), with throttling and lost answers injected into botocore."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddbstream import Router
from ddbstream.aggregate import Retry
from ddbstream.once import DynamoDBOutbox, DynamoDBStore
from ddbstream.testing.strategies import change_histories, deliveries

from ._play import PROFILES, USERS, CountingOutbox, Writes, first_emails, play, run_id
from .conftest import Clock
from .test_properties import (
    FACTORS,
    check_at_least_once,
    check_at_most_once,
    effects_router,
    welcome_router,
)

OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem")
RETRY = Retry(attempts=6, base=0.0)
FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


class AwsFaults:
    """botocore hooks giving each write nothing, a throttle (before it is sent) or a lost
    answer (after it landed), up to ``budget`` faults. The plan is drawn up front: how many
    requests a run sends depends on DynamoDB Local's answers, and drawing per request would make
    Hypothesis's data generation depend on them."""

    def __init__(self, client: Any, data: st.DataObject, budget: int = 3) -> None:
        self.client, self.left = client, budget
        self.plan = data.draw(st.lists(st.integers(0, 3), max_size=8 * budget), label="faults")
        for op in OPERATIONS:
            client.meta.events.register(f"before-call.dynamodb.{op}", self.before)
            client.meta.events.register(f"after-call.dynamodb.{op}", self.after)

    def close(self) -> None:
        for op in OPERATIONS:
            self.client.meta.events.unregister(f"before-call.dynamodb.{op}", self.before)
            self.client.meta.events.unregister(f"after-call.dynamodb.{op}", self.after)

    def _fault(self, label: str) -> bool:
        if self.left <= 0 or not self.plan or self.plan.pop(0) != 0:
            return False
        self.left -= 1
        return True

    def before(self, model: Any = None, **_: Any) -> None:
        if self._fault("throttle"):
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}
            raise ClientError(error, getattr(model, "name", "?"))  # type: ignore[arg-type]

    def after(self, **_: Any) -> None:
        if self._fault("lose the answer"):
            raise ConnectionClosedError(endpoint_url="http://injected")


def deliver(
    dynamodb_client: Any,
    data: st.DataObject,
    history: Any,
    factor: int,
    router: Router,
    writes: Writes,
    failing: list[str | None],
    clock: Clock,
) -> None:
    """Play a drawn schedule of ``history`` to ``router``, with AWS faults drawn too."""
    schedule = data.draw(
        deliveries(history.records, max_batch_size=4, parallelization_factor=factor)
    )
    faults = AwsFaults(dynamodb_client, data)
    try:
        play(schedule, router.handle, writes=writes, failing=failing, clock=clock)
    finally:
        faults.close()


@FIXTURES
@given(history=change_histories(max_changes=10), data=st.data(), factor=FACTORS)
def test_at_least_once_on_dynamodb(
    dynamodb_client: Any, store_table: str, history: Any, data: st.DataObject, factor: int
) -> None:
    clock, writes, failing = Clock(), Writes(), [None]
    store = DynamoDBStore(store_table, client=dynamodb_client, clock=clock)
    router, log = effects_router(store, writes, failing, namespace=run_id(), retry=RETRY)
    deliver(dynamodb_client, data, history, factor, router, writes, failing, clock)
    check_at_least_once(log, history.records, writes)


@FIXTURES
@given(history=change_histories(max_changes=10), data=st.data(), factor=FACTORS)
def test_at_most_once_on_dynamodb(
    dynamodb_client: Any, store_table: str, history: Any, data: st.DataObject, factor: int
) -> None:
    clock, writes, failing = Clock(), Writes(), [None]
    store = DynamoDBStore(store_table, client=dynamodb_client, clock=clock)
    router, log = effects_router(
        store, writes, failing, namespace=run_id(), retry=RETRY, guarantee="at-most-once"
    )
    deliver(dynamodb_client, data, history, factor, router, writes, failing, clock)
    check_at_most_once(log, history.records, writes)


@FIXTURES
@given(
    history=change_histories(keys=USERS, attributes=PROFILES, max_changes=12),
    data=st.data(),
    factor=FACTORS,
)
def test_the_outbox_on_dynamodb(
    dynamodb_client: Any, outbox_table: str, history: Any, data: st.DataObject, factor: int
) -> None:
    clock, writes, failing, prefix = Clock(), Writes(), [None], run_id() + "#"
    outbox = DynamoDBOutbox(outbox_table, client=dynamodb_client, retry=RETRY)
    router = welcome_router(CountingOutbox(outbox, writes), failing, prefix)
    deliver(dynamodb_client, data, history, factor, router, writes, failing, clock)
    items = dynamodb_client.scan(TableName=outbox_table, ConsistentRead=True)["Items"]
    mine = {
        i["MessageId"]["S"].removeprefix(prefix): i["To"]["S"]
        for i in items
        if i["MessageId"]["S"].startswith(prefix)
    }
    assert mine == first_emails(history.records)
