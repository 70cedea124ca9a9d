"""A property test of an aggregate: totals stay exact through Lambda's at-least-once delivery."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ddbstream import StreamRecord
from ddbstream.testing.strategies import change_histories, deliveries

TRANSACTIONS = st.fixed_dictionaries(
    {"InvoiceNumber": st.sampled_from(["I1", "I2"]), "TransactionId": st.sampled_from("abc")}
)
AMOUNTS = st.fixed_dictionaries({"Amount": st.integers(-50, 50).map(Decimal)})


class InvoiceTotals:
    """Code under test: invoice totals from deltas, idempotent by a per-item watermark."""

    def __init__(self) -> None:
        self.totals: dict[str, Decimal] = defaultdict(Decimal)
        self.applied: dict[Any, int] = {}  # item -> last applied sequence number

    def apply(self, record: StreamRecord[Any]) -> None:
        seq = int(record.sequence_number)
        if seq <= self.applied.get(record.item_key, -1):
            return  # a redelivery: already counted
        new = record.new_image["Amount"] if record.new_image else 0
        old = record.old_image["Amount"] if record.old_image else 0
        self.totals[record.keys["InvoiceNumber"]] += new - old
        self.applied[record.item_key] = seq


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_totals_equal_the_final_table(data: st.DataObject) -> None:
    history = data.draw(change_histories(keys=TRANSACTIONS, attributes=AMOUNTS, max_changes=30))
    schedule = data.draw(deliveries(history.records, max_batch_size=5, parallelization_factor=2))
    totals = InvoiceTotals()
    for delivery in schedule:
        stop = len(delivery.batch) if delivery.fail_at is None else delivery.fail_at
        for writes, raw in enumerate(delivery.batch[:stop]):
            if writes == delivery.crash_after_writes:
                break  # the function dies here; Lambda will retry
            totals.apply(StreamRecord(raw))
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for item in history.final_table.values():
        expected[item["InvoiceNumber"]] += item["Amount"]
    assert {k: v for k, v in totals.totals.items() if v} == {k: v for k, v in expected.items() if v}
