"""Per-record overhead of ddbstream's Router next to Powertools' BatchProcessor.

Both process the same 1000-record DynamoDB stream event with the same trivial record function,
in the same process; each measurement is the median of many repeats. Overhead per record is the
batch time minus a bare ``for`` loop calling the same function, divided by the record count.

Run: ``.venv/bin/python bench/router.py [--records 1000] [--repeats 50]``
Goal (issue 4): ddbstream's overhead at least 3x below Powertools'.
"""

from __future__ import annotations

import argparse
import copy
import gc
import logging
import statistics
import time
from collections.abc import Callable
from typing import Any


def noop(record: Any) -> None:
    """The trivial record function both processors call."""
    return None


def build_event(n: int) -> dict[str, Any]:
    from ddbstream.testing import insert, lambda_event

    return lambda_event(
        *(
            insert({"pk": f"order#{i}", "sk": "v0", "status": "NEW", "amount": i, "tags": ["a"]})
            for i in range(n)
        )
    )


def measure(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Time each function ``repeats`` times, interleaved, so that all of them see the same
    machine load; the garbage collector is off while timing."""
    for fn in fns.values():
        fn()  # warm up (imports, caches)
    times: dict[str, list[float]] = {name: [] for name in fns}
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in fns.items():
                started = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - started)
    finally:
        gc.enable()
    return times


def _typed_processors(fn: Callable[[Any], object]) -> tuple[Any, Any, type[Any]]:
    """Both processors validating NewImage/OldImage into the same pydantic model. Powertools
    needs its three nested stream models subclassed for that."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
    from aws_lambda_powertools.utilities.parser.models import (
        DynamoDBStreamChangedRecordModel,
        DynamoDBStreamRecordModel,
    )
    from pydantic import BaseModel

    try:
        from ddbstream import Router
    except ImportError:
        from ddbstream._routing import Router

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
    return processor, Router.for_function(fn, model=Order), Order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    logging.getLogger("ddbstream.routing").setLevel(logging.WARNING)

    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    try:
        from ddbstream import Router
    except ImportError:  # until ddbstream/__init__.py exports it
        from ddbstream._routing import Router
    from ddbstream.filters import event_name

    typed_pt, typed_fn, _ = _typed_processors(noop)

    n = args.records
    event = build_event(n)
    pristine = copy.deepcopy(event)
    records = event["Records"]

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    only = Router.for_function(noop)
    routed = Router()
    routed.add(event_name == "INSERT", noop)

    def baseline() -> None:
        for record in records:
            noop(record)

    def powertools() -> None:
        process_partial_response(event=event, record_handler=noop, processor=processor)

    def ddbstream_function() -> None:
        only.handle(event)

    def ddbstream_routed() -> None:
        routed.handle(event)

    assert only.handle(event) == {"batchItemFailures": []}
    assert process_partial_response(event=event, record_handler=noop, processor=processor) == {
        "batchItemFailures": []
    }

    times = measure(
        {
            "bare loop": baseline,
            "powertools BatchProcessor": powertools,
            "ddbstream Router.for_function": ddbstream_function,
            "ddbstream Router + 1 DSL route": ddbstream_routed,
            "powertools typed (pydantic)": lambda: process_partial_response(
                event=event, record_handler=noop, processor=typed_pt
            ),
            "ddbstream typed (model=Order)": lambda: typed_fn.handle(event),
        },
        args.repeats,
    )
    assert event == pristine, "a processor mutated the event"

    print(f"{n} records, {args.repeats} interleaved repeats (median; min in brackets)")
    print(f"{'processor':32} {'batch ms':>16} {'overhead us/record':>22}")
    overhead: dict[str, tuple[float, float]] = {}
    base_med, base_min = statistics.median(times["bare loop"]), min(times["bare loop"])
    for name, samples in times.items():
        med, low = statistics.median(samples), min(samples)
        overhead[name] = ((med - base_med) / n, (low - base_min) / n)
        print(
            f"{name:32} {med * 1e3:7.2f} [{low * 1e3:6.2f}] "
            f"{overhead[name][0] * 1e6:12.2f} [{overhead[name][1] * 1e6:6.2f}]"
        )
    pairs = [
        ("powertools BatchProcessor", "ddbstream Router.for_function"),
        ("powertools BatchProcessor", "ddbstream Router + 1 DSL route"),
        ("powertools typed (pydantic)", "ddbstream typed (model=Order)"),
    ]
    for theirs, ours in pairs:
        (t_med, t_min), (o_med, o_min) = overhead[theirs], overhead[ours]
        print(
            f"{theirs} / {ours}: {t_med / o_med:.2f}x median, {t_min / o_min:.2f}x min "
            "(overhead ratio; goal >= 3x)"
        )


if __name__ == "__main__":
    main()
