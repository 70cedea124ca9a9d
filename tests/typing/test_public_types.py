"""Static types of the public API: checked by ``mypy --strict tests/typing`` (``make typecheck``)
and executed by pytest so the examples stay runnable."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from typing_extensions import assert_type

from ddbstream import EventName, Image, StreamEvent, StreamRecord, deserialize, serialize


@dataclasses.dataclass
class Invoice:
    InvoiceNumber: str
    Amount: Decimal


EVENT = {
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


def test_codec_types() -> None:
    assert_type(serialize(1), dict[str, Any])
    assert_type(deserialize({"S": "x"}), Any)
