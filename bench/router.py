"""Per-record overhead of ddbstream's Router next to Powertools' BatchProcessor.

Every contender processes the same 1000-record DynamoDB stream event in the same process and
calls the same trivial record function. Overhead per record is a contender's batch time minus
a bare ``for`` loop calling that function, divided by the record count.

``3 function routes`` routes by the same three conditions written as plain functions of the
record: the router's own cost, apart from evaluating filter expressions.

The event is what an order table's stream carries: INSERTs, MODIFYs (some to ``SHIPPED``) and
REMOVEs, of ``ORDER#`` and ``CUSTOMER#`` items, so each route of the three-route router matches
some records and not others.

Run: ``.venv/bin/python bench/router.py [--records 1000] [--repeats 30] [--clock cpu|wall]``

Goals (issue 14): a router with three DSL routes has at most 0.5x the overhead per record of
Powertools' ``BatchProcessor``; ``Router.for_function`` is no slower than before issue 14.
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Result, add_output_options, measure_interleaved, save_json

BARE = "bare loop"
POWERTOOLS = "powertools BatchProcessor"
FUNCTION = "ddbstream Router.for_function"
ONE_ROUTE = "ddbstream Router, 1 DSL route"
THREE_ROUTES = "ddbstream Router, 3 DSL routes"
THREE_FUNCTIONS = "ddbstream Router, 3 function routes"
POWERTOOLS_TYPED = "powertools typed (pydantic)"
TYPED = "ddbstream typed (model=Order)"

#: (label, ddbstream contender, Powertools contender, bound on the overhead ratio).
GOALS = (
    ("3 DSL routes: overhead <= 0.5x Powertools'", THREE_ROUTES, POWERTOOLS, 0.5),
    ("Router.for_function: overhead below Powertools'", FUNCTION, POWERTOOLS, 1.0),
)


def noop(record: Any) -> None:
    """The trivial record function every contender calls."""
    return None


def build_event(n: int) -> dict[str, Any]:
    """``n`` records cycling through INSERT, MODIFY to SHIPPED, MODIFY to DELIVERED, REMOVE."""
    from ddbstream.testing import EventBuilder

    orders = EventBuilder("Orders")
    records = []
    for i in range(n):
        kind = "ORDER" if i % 2 == 0 else "CUSTOMER"
        item = {"pk": f"{kind}#{i // 4}", "sk": "v0", "status": "NEW", "amount": i, "tags": ["a"]}
        step = i % 4
        if step == 0:
            records.append(orders.insert(item))
        elif step == 1:
            records.append(orders.modify(item, {**item, "status": "SHIPPED"}))
        elif step == 2:
            records.append(orders.modify({**item, "status": "SHIPPED"}, {**item, "status": "X"}))
        else:
            records.append(orders.remove(item))
    return orders.lambda_event(*records)


def modified(record: Any) -> bool:
    """``event_name == "MODIFY"`` as a plain function."""
    return bool(record.lambda_record["eventName"] == "MODIFY")


def shipped(record: Any) -> bool:
    """``new_image("status") == "SHIPPED"`` as a plain function."""
    image = record.lambda_record["dynamodb"].get("NewImage")
    return image is not None and image.get("status") == {"S": "SHIPPED"}


def orders(record: Any) -> bool:
    """``keys("pk").begins_with("ORDER#")`` as a plain function."""
    return bool(record.lambda_record["dynamodb"]["Keys"]["pk"]["S"].startswith("ORDER#"))


def _router_class() -> Any:
    from ddbstream import Router

    return Router


def routers(fn: Callable[[Any], object]) -> dict[str, Any]:
    """The ddbstream routers under test (untyped)."""
    from ddbstream.filters import event_name, keys, new_image

    router = _router_class()
    one = router()
    one.add(event_name == "MODIFY", fn)
    three = router()
    three.add(event_name == "MODIFY", fn, name="modified")
    three.add(new_image("status") == "SHIPPED", fn, name="shipped")
    three.add(keys("pk").begins_with("ORDER#"), fn, name="orders")
    functions = router()
    for condition in (modified, shipped, orders):
        functions.add(condition, fn, name=condition.__name__)
    return {
        FUNCTION: router.for_function(fn),
        ONE_ROUTE: one,
        THREE_ROUTES: three,
        THREE_FUNCTIONS: functions,
    }


def typed_contenders(fn: Callable[[Any], object]) -> tuple[Any, Any]:
    """Powertools' BatchProcessor and ddbstream's Router both validating NewImage/OldImage into
    the same pydantic model (Powertools needs its nested stream models subclassed for that)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
    from aws_lambda_powertools.utilities.parser.models import (
        DynamoDBStreamChangedRecordModel,
        DynamoDBStreamRecordModel,
    )
    from pydantic import BaseModel

    class Order(BaseModel):
        pk: str
        sk: str
        status: str
        amount: int
        tags: list[str]

    class OrderChange(DynamoDBStreamChangedRecordModel):  # type: ignore[misc]
        NewImage: Order | None = None  # type: ignore[assignment]
        OldImage: Order | None = None  # type: ignore[assignment]

    class OrderRecord(DynamoDBStreamRecordModel):  # type: ignore[misc]
        dynamodb: OrderChange

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=OrderRecord)
    return processor, _router_class().for_function(fn, model=Order)


def contenders(event: dict[str, Any], *, typed: bool) -> dict[str, Callable[[], object]]:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    records = event["Records"]
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def bare() -> None:
        for record in records:
            noop(record)

    out: dict[str, Callable[[], object]] = {
        BARE: bare,
        POWERTOOLS: lambda: process_partial_response(
            event=event, record_handler=noop, processor=processor
        ),
    }
    for name, router in routers(noop).items():
        out[name] = lambda router=router: router.handle(event)
    if typed:
        typed_pt, typed_ours = typed_contenders(noop)
        out[POWERTOOLS_TYPED] = lambda: process_partial_response(
            event=event, record_handler=noop, processor=typed_pt
        )
        out[TYPED] = lambda: typed_ours.handle(event)
    for name, fn in out.items():
        response = fn()
        assert name == BARE or response == {"batchItemFailures": []}, (name, response)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-typed", action="store_true", help="skip the pydantic contenders")
    add_output_options(parser, "router")
    args = parser.parse_args()
    logging.getLogger("ddbstream.routing").setLevel(logging.WARNING)

    n = args.records
    event = build_event(n)
    pristine = copy.deepcopy(event)
    results = measure_interleaved(
        contenders(event, typed=not args.no_typed),
        group=f"orders/{n}",
        repeats=args.repeats,
        clock=args.clock,
    )
    assert event == pristine, "a contender mutated the event"
    report(results, n)
    if args.json is not None:
        print(f"wrote {save_json('router', results, path=args.json or None, records=n)}")


def report(results: list[Result], n: int) -> None:
    """The table: batch time, and overhead per record (minus the bare loop) by the median and
    by the best repeat (the best is steadier on a shared machine)."""
    by_name = {r.name: r for r in results}
    bare = by_name[BARE]

    def overhead(name: str, best: bool = False) -> float:
        result = by_name[name]
        return ((result.best - bare.best) if best else (result.median - bare.median)) / n

    print(f"{n} records, interleaved repeats ({results[0].extra['clock']} time)\n")
    print("| contender | batch (median) | overhead per record: median [best] | ÷ Powertools' |")
    print("|---|---|---|---|")
    for result in results:
        reference = POWERTOOLS_TYPED if "typed" in result.name else POWERTOOLS
        ratio = ""
        if result.name != BARE and reference in by_name:
            ratio = f"{overhead(result.name) / overhead(reference):.2f}x"
        print(
            f"| {result.name} | {result.median * 1e3:.2f} ms ±{result.spread:.0%} "
            f"| {overhead(result.name) * 1e6:.2f} µs [{overhead(result.name, True) * 1e6:.2f}] "
            f"| {ratio} |"
        )
    print()
    for label, ours, theirs, bound in GOALS:
        ratio = overhead(ours) / overhead(theirs)
        print(f"{label}: {ratio:.2f}x -> {'met' if ratio <= bound else 'NOT met'}")


if __name__ == "__main__":
    main()
