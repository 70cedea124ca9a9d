"""The invoice totals on an in-memory sink: exact deltas, coalescing and a bad record."""

from ddbstream.aggregate import Aggregator, Count, MemorySink, Sum

totals = Aggregator(
    group_by=lambda transaction: transaction["InvoiceNumber"],
    measures={"Total": Sum("Amount"), "Transactions": Count()},
    sink=MemorySink(),
)


def handler(event, context):
    response = totals.handle(event, context)  # the partial batch response
    snapshot = totals.snapshot()  # {invoice: {measure: Decimal}}
    response["totals"] = {
        invoice: {name: str(value) for name, value in values.items()}
        for invoice, values in snapshot.items()
    }
    return response
