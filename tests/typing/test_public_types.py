"""Static types of the public API: checked by ``mypy --strict tests/typing`` and
``pyright -p tests/typing`` (strict), and executed by pytest so the examples stay runnable.

The ``# type: ignore[...]`` lines are negative cases: each marks a call that must stay an error.
mypy's ``warn_unused_ignores`` (part of ``--strict``) and pyright's
``reportUnnecessaryTypeIgnoreComment`` (tests/typing/pyrightconfig.json) fail the check if the
error ever disappears.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from typing_extensions import TypedDict, assert_type

from ddbstream import (
    BatchResponse,
    Condition,
    EventName,
    Image,
    LambdaContext,
    Router,
    StreamEvent,
    StreamRecord,
    deserialize,
    serialize,
)
from ddbstream.filters import event_name, new_image
from ddbstream.testing import FakeLambdaContext


@dataclasses.dataclass
class Invoice:
    InvoiceNumber: str
    Amount: Decimal


class Order(BaseModel):
    pk: str


class Row(TypedDict):
    InvoiceNumber: str


EVENT: dict[str, Any] = {
    "Records": [
        {
            "eventID": "1",
            "eventName": "INSERT",
            "dynamodb": {
                "Keys": {"InvoiceNumber": {"S": "ABC"}},
                "NewImage": {"InvoiceNumber": {"S": "ABC"}, "Amount": {"N": "1.5"}},
                "SequenceNumber": "100000000000000000001",
            },
        }
    ]
}


def test_bare_record_types() -> None:
    record = StreamEvent.from_lambda(EVENT).records[0]
    assert_type(record.event_name, EventName)
    assert_type(record.sequence_number, str)
    assert_type(record.keys, Image)
    assert_type(record.new_image, Image | None)
    assert record.new_image is not None
    assert record.new_image["Amount"] == Decimal("1.5")


def test_bound_record_types() -> None:
    record: StreamRecord[Invoice] = StreamEvent.from_lambda(EVENT).records[0].bind(Invoice)
    new = record.new
    assert_type(new, Invoice | None)
    assert new == Invoice("ABC", Decimal("1.5"))


def test_default_type_parameter_is_a_mapping() -> None:
    record: StreamRecord = StreamEvent.from_lambda(EVENT).records[0]
    assert_type(record.new, Mapping[str, Any] | None)
    assert_type(StreamEvent.from_lambda(EVENT), StreamEvent[Mapping[str, Any]])


def test_the_model_flows_from_the_event_to_its_records() -> None:
    event = StreamEvent.from_lambda(EVENT, model=Invoice)
    assert_type(event, StreamEvent[Invoice])
    assert_type(event.records, tuple[StreamRecord[Invoice], ...])
    record = event.records[0]
    assert_type(record.new, Invoice | None)
    assert_type(record.require_new(), Invoice)
    assert record.require_new().Amount == Decimal("1.5")
    assert_type(StreamEvent.parse(EVENT, model=Row).records[0].require_new(), Row)
    assert_type(StreamEvent.from_pipes([], model=Order), StreamEvent[Order])
    assert_type(StreamEvent.from_kinesis({"Records": []}, model=Order), StreamEvent[Order])


def test_routes_accept_only_functions_of_their_model() -> None:
    router = Router()

    @router.route(event_name == "INSERT", model=Invoice)
    def typed(record: StreamRecord[Invoice]) -> None: ...

    @router.route(new_image("status") == "SHIPPED")
    def untyped(record: StreamRecord) -> None: ...

    @router.route(None)
    async def any_record(record: StreamRecord[Any]) -> None: ...

    assert_type(typed, Callable[[StreamRecord[Invoice]], None])

    def for_orders(record: StreamRecord[Order]) -> None: ...

    # Each registers once more (the checkers reject the calls; at run time they work).
    router.route(None, model=Invoice, name="a")(for_orders)  # type: ignore[arg-type]
    router.add(event_name == "MODIFY", for_orders, model=Invoice, name="b")  # type: ignore[arg-type]
    router.route(event_name == "INSERT", name="c")(for_orders)  # type: ignore[arg-type]
    Router.for_function(for_orders, model=Invoice)  # type: ignore[arg-type]
    assert [route.name for route in router.routes] == [
        "typed",
        "untyped",
        "any_record",
        "a",
        "b",
        "c",
    ]


def test_conditions_and_contexts_are_protocols() -> None:
    condition: Condition = event_name == "MODIFY"
    context: LambdaContext = FakeLambdaContext(remaining_ms=10)
    response = Router.for_function(print).handle({"Records": []}, context)
    assert_type(response, BatchResponse)
    assert not condition.matches(StreamEvent.from_lambda(EVENT).records[0])


def test_codec_types() -> None:
    assert_type(serialize(1), dict[str, Any])
    assert_type(deserialize({"S": "x"}), Any)


def test_the_record_constructor_binds_the_model() -> None:
    raw = EVENT["Records"][0]
    assert_type(StreamRecord(raw, model=Invoice), StreamRecord[Invoice])
    assert_type(StreamRecord(raw), StreamRecord)
    assert StreamRecord(raw, model=Invoice).require_new().Amount == Decimal("1.5")
