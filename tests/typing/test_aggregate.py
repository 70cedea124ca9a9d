"""Static types of ddbstream.aggregate: checked by ``mypy --strict tests/typing`` and executed
by pytest. With ``model=`` the model's type flows into ``group_by``, ``where`` and the
aggregator; without, the functions receive an :class:`~ddbstream.Image`."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from typing_extensions import assert_type

from ddbstream import BatchResponse, Image
from ddbstream.aggregate import (
    AggregateResult,
    AggregateSpec,
    Aggregator,
    Count,
    Measure,
    MemorySink,
    Sink,
    Sum,
)
from ddbstream.testing import insert, lambda_event


@dataclasses.dataclass
class Invoice:
    InvoiceNumber: str
    TransactionId: str
    Amount: Decimal


def _group(invoice: Invoice) -> str:
    return invoice.InvoiceNumber


def _big(invoice: Invoice) -> bool:
    return invoice.Amount > 0


def test_a_model_binds_the_aggregators_type() -> None:
    totals = Aggregator(
        _group, {"Total": Sum("Amount")}, where=_big, model=Invoice, sink=MemorySink()
    )
    assert_type(totals, Aggregator[Invoice])
    assert_type(totals.spec, AggregateSpec[Invoice])
    row = {"InvoiceNumber": "A", "TransactionId": "1", "Amount": 5}
    response = totals.handle(lambda_event(insert(row)), None)
    assert_type(response, BatchResponse)
    assert response == {"batchItemFailures": []}
    assert_type(totals.apply(lambda_event(insert(row))), AggregateResult)


def test_without_a_model_functions_see_images() -> None:
    def group(image: Image) -> Any:
        return image["InvoiceNumber"]

    counts = Aggregator(group, {"N": Count()}, sink=MemorySink())
    assert_type(counts, Aggregator[Image])
    by_name = Aggregator("InvoiceNumber", {"N": Count()})
    assert_type(by_name, Aggregator[Image])


def test_builtins_are_measures_and_sinks_are_sinks() -> None:
    measure: Measure[Invoice, Decimal] = Sum("Amount")
    sink: Sink = MemorySink()
    assert measure.algebra == "group"
    assert sink.exactly_once
