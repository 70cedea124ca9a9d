"""Binding images to user models (pydantic models, dataclasses, TypedDicts) through a cached
TypeAdapter; validation errors name the record and the attribute."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from ddbstream import ImageValidationError, StreamEvent
from ddbstream.testing import insert, lambda_event, modify, remove

INVOICE = {"InvoiceNumber": "I1", "TransactionId": "T1", "Amount": Decimal("12.5")}
KEYS = ("InvoiceNumber", "TransactionId")


class InvoiceModel(BaseModel):
    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal


@dataclasses.dataclass
class InvoiceData:
    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal


class InvoiceDict(TypedDict):
    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal


def _three_changes() -> dict[str, Any]:
    """An INSERT, a MODIFY to 20 and a REMOVE of one invoice transaction."""
    changed = {**INVOICE, "Amount": Decimal("20")}
    return lambda_event(
        insert(INVOICE, keys=KEYS), modify(INVOICE, changed, keys=KEYS), remove(changed, keys=KEYS)
    )


@pytest.mark.parametrize("model", [InvoiceModel, InvoiceData, InvoiceDict])
def test_typed_binding(model: type) -> None:
    event = StreamEvent.from_lambda(_three_changes(), model=model)
    first, second, third = event
    assert first.model is model
    new = first.new
    if model is InvoiceDict:
        assert new == INVOICE
    else:
        assert isinstance(new, model)
        assert new.Amount == Decimal("12.5")  # type: ignore[attr-defined]
    assert first.old is None
    assert second.old == first.new
    assert third.new is None
    unbound = StreamEvent.from_lambda(_three_changes()).records[0]
    assert unbound.new is unbound.new_image
    assert unbound.bind(model).new == new


def test_validation_errors_name_the_record_and_attribute() -> None:
    raw = lambda_event(insert({"InvoiceNumber": "I1", "TransactionId": "T", "Amount": "x"}))
    record = StreamEvent.from_lambda(raw, model=InvoiceModel).records[0]
    with pytest.raises(ImageValidationError) as info:
        record.new  # noqa: B018
    assert info.value.path[:2] == ("NewImage", "Amount")
    assert info.value.event_id == raw["Records"][0]["eventID"]
    assert info.value.sequence_number == raw["Records"][0]["dynamodb"]["SequenceNumber"]
