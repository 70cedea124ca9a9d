"""Property tests of a stream handler with the hypothesis strategies."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ddbstream import StreamEvent, StreamRecord
from ddbstream.testing.strategies import lambda_events, pipes_events


def handler(event: Any, context: object) -> dict[str, Any]:
    """Code under test: counts changes by kind, for any stream view type."""
    counts = {"INSERT": 0, "MODIFY": 0, "REMOVE": 0}
    for record in StreamEvent.parse(event):
        counts[record.event_name.value] += 1
    return counts


@given(lambda_events(max_size=20) | pipes_events(max_size=20))
def test_every_record_is_counted_once(event: Any) -> None:
    records = event["Records"] if isinstance(event, dict) else event
    assert sum(handler(event, None).values()) == len(records)


@dataclasses.dataclass
class Invoice:
    InvoiceNumber: str
    Amount: Decimal


@given(st.from_type(StreamRecord[Invoice]))
def test_typed_records(record: StreamRecord[Invoice]) -> None:
    for invoice in (record.new, record.old):
        assert invoice is None or isinstance(invoice.Amount, Decimal)
