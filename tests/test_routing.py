"""Router: registration, conditions, fan-out order, default route, typed routes, errors that
are not a record's fault."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
from typing import Any

import pytest

from ddbstream import DecodeError, EventName, Route, Router, StreamRecord, UsageError
from ddbstream.testing import (
    FakeLambdaContext,
    insert,
    kinesis_event,
    lambda_event,
    modify,
    pipes_event,
    remove,
)


@dataclasses.dataclass(frozen=True)
class StatusIs:
    """A condition object with ``.matches`` (the filter DSL's protocol)."""

    status: str

    def matches(self, record: StreamRecord[Any]) -> bool:
        image = record.new_image
        return image is not None and image.get("status") == self.status


def is_insert(record: StreamRecord[Any]) -> bool:
    return record.event_name is EventName.INSERT


def event() -> dict[str, Any]:
    return lambda_event(
        insert({"pk": "a", "status": "NEW"}),
        modify({"pk": "a", "status": "NEW"}, {"pk": "a", "status": "SHIPPED"}),
        remove({"pk": "a", "status": "SHIPPED"}),
        insert({"pk": "b", "status": "SHIPPED"}),
    )


def test_fan_out_runs_matching_routes_in_registration_order() -> None:
    router = Router()
    calls: list[tuple[str, str]] = []

    @router.route(StatusIs("SHIPPED"))
    def shipped(record: StreamRecord[Any]) -> None:
        calls.append(("shipped", record.event_name.value))

    @router.route(is_insert)
    def inserted(record: StreamRecord[Any]) -> None:
        calls.append(("inserted", record.event_name.value))

    result = router.process(event())
    assert calls == [
        ("inserted", "INSERT"),
        ("shipped", "MODIFY"),
        ("shipped", "INSERT"),
        ("inserted", "INSERT"),
    ]
    assert [r.event_name for r in result.unmatched] == [EventName.REMOVE]
    assert len(result.processed) == 4


def test_default_route_gets_only_unmatched_records() -> None:
    router = Router()
    seen: list[str] = []
    router.add(is_insert, lambda r: seen.append("insert"))

    @router.default
    def other(record: StreamRecord[Any]) -> None:
        seen.append(f"default {record.event_name}")

    result = router.process(event())
    assert seen == ["insert", "default MODIFY", "default REMOVE", "insert"]
    assert len(result.unmatched) == 2
    assert router.default_route is not None
    assert router.default_route.name == "other"
    assert set(result.route_durations) == {"<lambda>", "other"}


def test_second_default_route_is_refused() -> None:
    router = Router()
    router.default(print)
    with pytest.raises(UsageError, match="default route is already"):
        router.default(repr)


def test_unmatched_records_without_default_are_processed_and_counted() -> None:
    router = Router()
    router.add(StatusIs("NOPE"), print)
    result = router.process(event())
    assert len(result.unmatched) == len(result.processed) == 4
    assert result.response() == {"batchItemFailures": []}


def test_same_function_and_condition_twice_is_an_error() -> None:
    router = Router()

    def fn(record: StreamRecord[Any]) -> None: ...

    router.add(StatusIs("SHIPPED"), fn)
    with pytest.raises(UsageError, match="already routed"):
        router.add(StatusIs("SHIPPED"), fn)
    router.add(StatusIs("NEW"), fn)  # another condition is another route
    router.add(StatusIs("SHIPPED"), lambda r: None)  # another function too
    assert [r.name for r in router.routes] == ["fn", "fn#2", "<lambda>"]


def test_bad_condition_and_handler_are_usage_errors() -> None:
    router = Router()
    with pytest.raises(UsageError, match="condition"):
        router.add("status == 'x'", print)
    with pytest.raises(UsageError, match="callable"):
        router.add(is_insert, "print")  # type: ignore[arg-type]


def test_condition_that_raises_fails_its_record_before_any_route_runs() -> None:
    """Issue 11: whatever a condition raises ends in a correct partial batch response."""
    router = Router()
    ran: list[str] = []

    def buggy(record: StreamRecord[Any]) -> bool:
        raise TypeError("bug in a predicate")

    router.add(lambda r: True, lambda r: ran.append(r.keys["pk"]))
    router.add(buggy, print)
    ev = event()
    result = router.process(ev, None)
    assert ran == []
    (failure,) = result.failed
    assert isinstance(failure.exception, TypeError)
    assert failure.route == "print"  # the route whose condition raised, named by its function
    assert result.response() == {
        "batchItemFailures": [{"itemIdentifier": ev["Records"][0]["dynamodb"]["SequenceNumber"]}]
    }


def test_condition_that_hits_a_decode_error_fails_the_record() -> None:
    router = Router(policy="continue")
    router.add(lambda r: r.new_image is not None and r.new_image["n"] > 1, print)
    bad = lambda_event(insert({"pk": "a", "n": 1}), insert({"pk": "b", "n": 2}))
    bad["Records"][0]["dynamodb"]["NewImage"]["n"] = {"N": "?"}
    result = router.process(bad)
    assert isinstance(result.failed[0].exception, DecodeError)
    assert len(result.processed) == 1


def test_typed_route_gets_the_bound_record() -> None:
    from pydantic import BaseModel

    class Order(BaseModel):
        pk: str
        status: str

    router = Router()
    got: list[Any] = []

    @router.route(StatusIs("SHIPPED"), model=Order)
    def shipped(record: StreamRecord[Order]) -> None:
        got.append((record.model, record.new))

    router.handle(event())
    assert got == [
        (Order, Order(pk="a", status="SHIPPED")),
        (Order, Order(pk="b", status="SHIPPED")),
    ]


def test_model_mismatch_fails_before_any_route_of_the_record_runs() -> None:
    from pydantic import BaseModel

    class Strict(BaseModel):
        pk: str
        qty: int

    router = Router()
    ran: list[str] = []
    router.add(is_insert, lambda r: ran.append("untyped"))
    router.add(is_insert, lambda r: ran.append("typed"), model=Strict)
    result = router.process(lambda_event(insert({"pk": "a", "qty": "lots"})))
    assert ran == []
    assert result.failed[0].exception.__class__.__name__ == "ImageValidationError"


def test_route_failure_in_fan_out_stops_the_batch_and_later_routes() -> None:
    router = Router()
    ran: list[str] = []

    def fails(record: StreamRecord[Any]) -> None:
        raise RuntimeError("down")

    router.add(is_insert, lambda r: ran.append("first"))
    router.add(is_insert, fails)
    router.add(is_insert, lambda r: ran.append("third"))
    ev = event()
    assert router.handle(ev) == {
        "batchItemFailures": [{"itemIdentifier": ev["Records"][0]["dynamodb"]["SequenceNumber"]}]
    }
    assert ran == ["first"]


@pytest.mark.parametrize("make", [lambda_event, kinesis_event, pipes_event])
def test_every_envelope_is_routed(make: Any) -> None:
    router = Router()
    keys: list[str] = []
    router.add(is_insert, lambda r: keys.append(r.keys["pk"]))
    router.handle(make(insert({"pk": "x"}), remove({"pk": "y"}), insert({"pk": "z"})))
    assert keys == ["x", "z"]


def test_filter_dsl_conditions() -> None:
    import ddbstream.filters as dsl

    router = Router()
    seen: list[str] = []
    router.add((dsl.event_name == "INSERT") & (dsl.new_image("status") == "SHIPPED"), seen.append)
    router.add(
        (dsl.event_name == "MODIFY") & dsl.changed("status"), lambda r: seen.append("changed")
    )
    router.handle(event())
    assert len(seen) == 2
    assert seen[0] == "changed"
    assert isinstance(seen[1], StreamRecord)
    assert seen[1].keys["pk"] == "b"


def test_for_function_and_repr() -> None:
    router = Router.for_function(print, policy="continue")
    assert router.routes == (Route(None, print, None, "print"),)
    assert repr(router) == "Router(policy='continue')"
    assert repr(Router()) == "Router()"
    assert repr(Router(deadline_margin_ms=5)) == "Router(deadline_margin_ms=5)"
    assert repr(router.routes[0]) == "Route(None, print)"


def test_router_is_reusable_across_invocations() -> None:
    router = Router()
    count: list[int] = []
    router.add(None, lambda r: count.append(1))
    router.handle(event())
    router.handle(event())
    assert len(count) == 8


def test_documented_examples_have_the_documented_effects() -> None:
    """tests/test_examples.py checks each example's response; this checks what they did."""
    import importlib.util
    import json
    import sys
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "examples" / "routing"

    def run(stem: str) -> Any:
        spec = importlib.util.spec_from_file_location(
            f"routing_example_{stem}", folder / f"{stem}.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        module.handler(json.loads((folder / f"{stem}_event.json").read_text()), None)
        return module

    orders = run("orders")
    assert orders.emails == ["o1 shipped (25.5)"]
    assert orders.changes == ["INSERT o1", "MODIFY o1"]
    assert run("stop_at_first_failure").charged == ["o1"]
    assert run("continue_policy").charged == ["o1", "o3"]
    dead = run("dead_letter")
    assert [str(t) for t in dead.totals] == ["25.5", "3"]
    assert len(dead.parked) == 1
    assert json.loads(dead.parked[0])["record"]["dynamodb"]["Keys"] == {"pk": {"S": "o2"}}
    assert run("tumbling_window").written == [
        {"window_start": "2024-06-10T00:00:00+00:00", "orders": 4, "total": "65.5"}
    ]


# -- async route functions ----------------------------------------------------------------


def test_async_routes_run_in_record_order_and_stop_at_the_first_failure() -> None:
    import asyncio

    from ddbstream.testing import insert, lambda_event

    seen: list[str] = []
    router = Router()

    @router.route(None)
    async def slow_then_fast(record: StreamRecord[Any]) -> None:
        pk = record.keys["pk"]
        await asyncio.sleep(0.01 if pk == "a" else 0)  # the first record is the slowest
        if pk == "c":
            raise RuntimeError("boom")
        seen.append(pk)

    event = lambda_event(*(insert({"pk": pk}) for pk in "abcd"))
    response = router.handle(event, None)
    third = event["Records"][2]["dynamodb"]["SequenceNumber"]
    assert seen == ["a", "b"]  # in order; "d" never ran after "c" failed
    assert response == {"batchItemFailures": [{"itemIdentifier": third}]}


def test_async_callable_objects_and_default_routes_are_awaited() -> None:
    from ddbstream.testing import insert, lambda_event

    calls: list[str] = []

    class Audit:
        async def __call__(self, record: StreamRecord[Any]) -> None:
            calls.append(f"audit {record.keys['pk']}")

    router = Router()
    router.add(lambda record: record.keys["pk"] == "a", Audit())

    @router.default
    async def rest(record: StreamRecord[Any]) -> None:
        calls.append(f"default {record.keys['pk']}")

    result = router.process(lambda_event(insert({"pk": "a"}), insert({"pk": "b"})), None)
    assert calls == ["audit a", "default b"]
    assert len(result.processed) == 2
    assert result.failed == ()


# -- what a route returns: awaited, never sniffed ------------------------------------------


async def _record_key(seen: list[str], record: StreamRecord[Any]) -> None:
    await asyncio.sleep(0)
    seen.append(record.keys["pk"])


def _sync_decorator(function: Any) -> Any:
    @functools.wraps(function)
    def wrapper(record: StreamRecord[Any]) -> Any:
        return function(record)

    return wrapper


def test_whatever_returns_an_awaitable_is_awaited_in_order() -> None:
    seen: list[str] = []

    async def decorated(record: StreamRecord[Any]) -> None:
        await _record_key(seen, record)

    for handler in (
        functools.partial(_record_key, seen),
        lambda record: _record_key(seen, record),
        _sync_decorator(decorated),
    ):
        seen.clear()
        result = Router.for_function(handler).process(event())
        assert seen == ["a", "a", "a", "b"]
        assert len(result.processed) == 4


@pytest.mark.parametrize("kind", ["generator", "async generator"])
def test_a_generator_route_fails_its_record_instead_of_never_running(kind: str) -> None:
    def gen(record: StreamRecord[Any]) -> Any:
        yield record

    async def agen(record: StreamRecord[Any]) -> Any:
        yield record

    result = Router.for_function(gen if kind == "generator" else agen).process(event())
    (failure,) = result.failed
    assert isinstance(failure.exception, UsageError)
    assert "body never ran" in str(failure.exception)
    assert result.processed == ()


def test_an_async_route_inside_a_running_loop_fails_its_record_cleanly() -> None:
    seen: list[str] = []

    async def main() -> Any:
        return Router.for_function(lambda r: _record_key(seen, r)).process(event())

    result = asyncio.run(main())
    assert isinstance(result.failed[0].exception, UsageError)
    assert "running event loop" in str(result.failed[0].exception)
    assert seen == []


# -- logs and metrics (issue 10) -----------------------------------------------------------


def _failing_router(**kwargs: Any) -> Router:
    router = Router(policy="continue", **kwargs)

    @router.route(is_insert)
    def charge(record: StreamRecord[Any]) -> None:
        if record.keys["pk"] == "b":
            raise RuntimeError("card declined")

    return router


def test_each_failed_record_is_logged_once_with_its_identity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ev = event()
    with caplog.at_level(logging.INFO, logger="ddbstream.routing"):
        _failing_router().handle(ev)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    (summary,) = [r for r in caplog.records if r.levelno == logging.INFO]
    (warning,) = warnings
    failed = ev["Records"][3]
    assert warning.event_id == failed["eventID"]  # type: ignore[attr-defined]
    assert warning.sequence_number == failed["dynamodb"]["SequenceNumber"]  # type: ignore[attr-defined]
    assert warning.route == "charge"  # type: ignore[attr-defined]
    assert "card declined" in warning.getMessage()
    assert failed["eventID"] in warning.getMessage()
    counts = ("records", "processed", "failed", "filtered")
    assert tuple(getattr(summary, name) for name in counts) == (4, 3, 1, 2)


def test_metrics_are_one_emf_line_per_batch_and_per_route(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ev = event()
    _failing_router(metrics=True).handle(ev, FakeLambdaContext(function_name="orders"))
    batch, route = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (batch["function"], batch["component"]) == ("orders", "router")
    values = ("RecordsIn", "RecordsProcessed", "RecordsFailed", "RecordsNotAttempted")
    assert tuple(batch[name] for name in values) == (4, 3, 1, 0)
    assert batch["RecordsFilteredLocally"] == 2
    assert batch["BatchDuration"] >= 0
    assert batch["RecordAge"] > 0
    assert (route["route"], route["RouteRecords"], route["RouteFailures"]) == ("charge", 2, 1)


def test_metrics_follow_the_environment_and_accept_a_powertools_object(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DDBSTREAM_METRICS", raising=False)
    _failing_router().handle(event())
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("DDBSTREAM_METRICS", "emf")
    _failing_router().handle(event())
    assert '"RecordsIn":4' in capsys.readouterr().out

    class Powertools:
        def __init__(self) -> None:
            self.added: dict[str, float] = {}

        def add_metric(self, *, name: str, unit: str, value: float) -> None:
            self.added[name] = value

    metrics = Powertools()
    _failing_router(metrics=metrics).handle(event())
    assert (metrics.added["RecordsIn"], metrics.added["charge.Failures"]) == (4, 1)
    with pytest.raises(UsageError, match="metrics="):
        Router(metrics=42)
