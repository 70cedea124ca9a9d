"""Invoice totals per tumbling window: fold into Lambda's state, write once when it closes."""

from ddbstream.aggregate import Aggregator, MemorySink, Sum

totals = Aggregator(
    group_by=lambda transaction: transaction["InvoiceNumber"],
    measures={"Total": Sum("Amount")},
    sink=MemorySink(),  # DynamoDBSink(...) in production
)


def handler(event, context):
    # With TumblingWindowInSeconds set, the event has "window" and "state": handle() folds
    # the records into the state and returns it; the final invoke writes the window's deltas.
    return totals.handle(event, context)
