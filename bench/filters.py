"""Filter benchmark: ddbstream's local pattern matching against json.loads and event-ruler.

All contenders run in one process on the same generated Lambda DynamoDB stream events::

    .venv/bin/python bench/filters.py                  # 100, 1000 and 10000 records
    .venv/bin/python bench/filters.py --sizes 1000 --json

The events are an orders table (``pk``/``sk`` keys, ``NEW_AND_OLD_IMAGES``): a mix of INSERT,
MODIFY and REMOVE records whose partition keys are ``ORDER#``, ``INVOICE#`` or ``CUSTOMER#``
items, with an order status among NEW, PACKED, SHIPPED and DELIVERED. Each record carries about
14 attributes per image, including a nested address map and a list of line items. A fixed seed
makes every run see the same records; about one record in four matches the pattern.

Two patterns:

* ``prefix`` (the typical 3-condition pattern)::

      {"eventName": ["INSERT", "MODIFY"],
       "dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]}},
                    "Keys": {"pk": {"S": [{"prefix": "ORDER#"}]}}}}

* ``exact``: the Python ``event-ruler`` package (Go quamina underneath) rejects ``prefix`` as an
  invalid pattern, so for the comparison with it the prefix condition is replaced by an exact
  one, keeping three conditions: ``NewImage.entity.S == "Order"`` (only ORDER# items have it).
  ddbstream runs on this same pattern for the fair ratio.

Contenders, per event (the filter or expression is built once, outside the timed loop, and the
ddbstream contenders match the records of ``json.loads(event_text)``, as a handler holds them):

* ``json.loads``: parsing the event text, the floor every handler pays before it runs.
* ``ddbstream Filter (prefix)``: ``Filter.from_pattern(p).matches(record)`` for every record.
* ``ddbstream DSL (prefix)``: the same pattern written with the DSL,
  ``event_name.is_in("INSERT", "MODIFY") & (new_image("status") == "SHIPPED")
  & keys("pk").begins_with("ORDER#")``, and its ``.matches(record)``. This evaluates the
  expression tree directly; it is not the compiled ``Filter``.
* ``ddbstream Filter (exact)``: ``Filter.matches`` on the ``exact`` pattern.
* ``event-ruler (exact)``: ``event_ruler.test_event_pattern(record_json, pattern_json)`` for
  every record. Its API takes JSON text, so every record is serialized with ``json.dumps``
  beforehand, outside the timed loop (which favours event-ruler: a handler holds dicts). Its
  only entry point also takes the pattern text on every call, so each call includes quamina
  parsing the pattern; the package offers no way to compile a pattern once.
* ``event-ruler floor ({} record)``: the same calls with ``{}`` as every record: what one call
  costs before any record is read (cgo, pattern parsing, building the matcher). It shows how
  much of event-ruler's time is per-call overhead rather than matching.

Before timing, every record is checked: ddbstream's ``Filter`` and event-ruler must agree on the
``exact`` pattern, and ``Filter``, the DSL and a hand-written Python predicate must agree on the
``prefix`` pattern. Any disagreement stops the benchmark.

Timing: medians of 15 repeats (5 at 10,000 records), contenders interleaved round-robin, the
garbage collector off inside a repeat, and this process's CPU time by default (``--clock wall``
for wall time). CPU time counts every thread of the process, so the Go runtime's own threads are
charged to event-ruler.

Per record, matching 10,000 records costs about twice what matching 1000 does: the same 1000
records matched ten times take half the time of 10,000 distinct ones, so it is memory (cache
misses on a large event), not the matcher. Note that at about 1.5 KB per record a 10,000-record
event (15 MB) exceeds Lambda's 6 MB invocation payload; it is here as a stress size.

Goals (issue 3), at 1000 records: evaluation <= 0.10x the json.loads time of the same event,
and >= 20x faster than event-ruler's matcher.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    Result,
    add_output_options,
    check_goals,
    machine,
    measure,
    measure_interleaved,
    save_json,
)

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-22T00:00:00.000"
SEQ_BASE = 5_200_000_000_000_000_000_000

PREFIX_PATTERN: dict[str, Any] = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {
        "NewImage": {"status": {"S": ["SHIPPED"]}},
        "Keys": {"pk": {"S": [{"prefix": "ORDER#"}]}},
    },
}
EXACT_PATTERN: dict[str, Any] = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]}, "entity": {"S": ["Order"]}}},
}

STATUSES = ("NEW", "PACKED", "SHIPPED", "DELIVERED")
ENTITIES = {"ORDER#": "Order", "INVOICE#": "Invoice", "CUSTOMER#": "Customer"}


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


def _item(rng: random.Random, i: int, prefix: str, status: str) -> dict[str, Any]:
    def s(text: str) -> dict[str, str]:
        return {"S": text}

    def n(value: object) -> dict[str, str]:
        return {"N": str(value)}

    lines = [
        {
            "M": {
                "sku": s(f"SKU-{rng.randrange(10**6):06d}"),
                "qty": n(rng.randrange(1, 6)),
                "price": n(f"{rng.randrange(1, 400)}.{rng.randrange(100):02d}"),
            }
        }
        for _ in range(rng.randrange(1, 4))
    ]
    item: dict[str, Any] = {
        "pk": s(f"{prefix}{i // 3:07d}"),
        "sk": s(f"v{i % 3}"),
        "status": s(status),
        "customer": s(rng.choice(["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli"])),
        "currency": s(rng.choice(["EUR", "USD", "GBP"])),
        "total": n(f"{rng.randrange(1, 100_000)}.{rng.randrange(100):02d}"),
        "created_at": s(f"2026-11-{1 + i % 28:02d}T10:{i % 60:02d}:00.000Z"),
        "updated_at": s(f"2026-11-{1 + i % 28:02d}T11:{i % 60:02d}:00.000Z"),
        "version": n(rng.randrange(1, 9)),
        "express": {"BOOL": rng.random() < 0.2},
        "tags": {"SS": ["web", f"batch-{i % 7}"]},
        "address": {
            "M": {
                "street": s(f"{rng.randrange(1, 999)} Main St"),
                "city": s(rng.choice(["Springfield", "Shelbyville", "Ogdenville"])),
                "zip": s(f"{rng.randrange(10000, 99999)}"),
            }
        },
        "lines": {"L": lines},
    }
    if prefix == "ORDER#":
        item["entity"] = s(ENTITIES[prefix])
    return item


def orders_event(n: int, *, seed: int = 3) -> dict[str, Any]:
    """A Lambda event of ``n`` INSERT/MODIFY/REMOVE records on an orders table."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        event_name = rng.choices(("INSERT", "MODIFY", "REMOVE"), weights=(3, 6, 1))[0]
        prefix = rng.choices(tuple(ENTITIES), weights=(7, 2, 1))[0]
        status = rng.choices(STATUSES, weights=(3, 2, 4, 1))[0]
        old_status = STATUSES[max(0, STATUSES.index(status) - 1)]
        new = _item(rng, i, prefix, status)
        old = dict(new, status={"S": old_status})
        ddb: dict[str, Any] = {
            "ApproximateCreationDateTime": 1_763_800_000.0 + i,
            "Keys": {"pk": new["pk"], "sk": new["sk"]},
            "SequenceNumber": str(SEQ_BASE + i * 100),
            "SizeBytes": 600 + rng.randrange(300),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if event_name != "REMOVE":
            ddb["NewImage"] = new
        if event_name != "INSERT":
            ddb["OldImage"] = old
        records.append(
            {
                "eventID": f"{i:08x}d3c9a2f15b9fae4c8d7b6a5f{i % 997:03d}",
                "eventName": event_name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": ddb,
                "eventSourceARN": ARN,
            }
        )
    return {"Records": records}


def _reference(record: dict[str, Any], *, exact: bool) -> bool:
    """The two patterns as plain Python, for the agreement check."""
    ddb = record["dynamodb"]
    new = ddb.get("NewImage", {})
    if record["eventName"] not in ("INSERT", "MODIFY"):
        return False
    if new.get("status") != {"S": "SHIPPED"}:
        return False
    if exact:
        return bool(new.get("entity") == {"S": "Order"})
    return bool(ddb["Keys"]["pk"]["S"].startswith("ORDER#"))


# ---------------------------------------------------------------------------------------------
# Contenders
# ---------------------------------------------------------------------------------------------


def dsl_expression() -> Any:
    """The ``prefix`` pattern written with the DSL."""
    from ddbstream.filters import event_name, keys, new_image

    return (
        event_name.is_in("INSERT", "MODIFY")
        & (new_image("status") == "SHIPPED")
        & keys("pk").begins_with("ORDER#")
    )


def contenders(event: dict[str, Any]) -> dict[str, Callable[[], object]]:
    """Name -> zero-argument callable doing that contender's work on ``event``."""
    from event_ruler import test_event_pattern

    from ddbstream.filters import Filter

    text = json.dumps(event)
    records = json.loads(text)["Records"]  # what a handler holds: dicts fresh from json.loads
    record_texts = [json.dumps(r) for r in records]  # event-ruler takes JSON text, built untimed
    exact_text = json.dumps(EXACT_PATTERN)
    prefix_match = Filter.from_pattern(PREFIX_PATTERN).matches
    exact_match = Filter.from_pattern(EXACT_PATTERN).matches
    dsl_match = dsl_expression().matches

    def json_loads() -> object:
        return json.loads(text)

    def ddb_prefix() -> object:
        return [prefix_match(r) for r in records]

    def ddb_dsl() -> object:
        return [dsl_match(r) for r in records]

    def ddb_exact() -> object:
        return [exact_match(r) for r in records]

    def event_ruler() -> object:
        return [test_event_pattern(t, exact_text) for t in record_texts]

    def event_ruler_floor() -> object:
        return [test_event_pattern("{}", exact_text) for _ in records]

    return {
        "json.loads": json_loads,
        "ddbstream Filter (prefix)": ddb_prefix,
        "ddbstream DSL (prefix)": ddb_dsl,
        "ddbstream Filter (exact)": ddb_exact,
        "event-ruler (exact)": event_ruler,
        "event-ruler floor ({} record)": event_ruler_floor,
    }


def check_agreement(event: dict[str, Any]) -> dict[str, int]:
    """Fail loudly unless all matchers agree on every record; returns the match counts."""
    from event_ruler import test_event_pattern

    from ddbstream.filters import Filter

    prefix = Filter.from_pattern(PREFIX_PATTERN)
    exact = Filter.from_pattern(EXACT_PATTERN)
    expr = dsl_expression()
    compiled = expr.to_patterns()
    if [Filter.from_pattern(p) for p in compiled] != [prefix]:
        raise SystemExit(f"the DSL expression compiles to {compiled}, not the prefix pattern")
    exact_text = json.dumps(EXACT_PATTERN)
    counts = {"records": 0, "prefix matches": 0, "exact matches": 0}
    for i, record in enumerate(event["Records"]):
        ruler = test_event_pattern(json.dumps(record), exact_text)
        ours = exact.matches(record)
        if ruler is not ours or ours is not _reference(record, exact=True):
            raise SystemExit(f"record {i}: ddbstream {ours}, event-ruler {ruler} (exact)")
        by_prefix = (prefix.matches(record), expr.matches(record), _reference(record, exact=False))
        if len(set(by_prefix)) != 1:
            raise SystemExit(f"record {i}: Filter, DSL, reference = {by_prefix} (prefix)")
        counts["records"] += 1
        counts["prefix matches"] += by_prefix[0]
        counts["exact matches"] += ours
    if not 0 < counts["exact matches"] < counts["records"]:
        raise SystemExit(f"a degenerate event: {counts}")
    return counts


# ---------------------------------------------------------------------------------------------
# Router conditions and limits
# ---------------------------------------------------------------------------------------------


def route_conditions() -> list[Any]:
    """Three typical route conditions: on the event name, an image attribute and a key."""
    from ddbstream.filters import event_name, keys, new_image

    return [
        event_name == "MODIFY",
        new_image("status") == "SHIPPED",
        keys("pk").begins_with("ORDER#"),
    ]


def _noop(record: Any) -> None:
    return None


def condition_contenders(event: dict[str, Any]) -> dict[str, Callable[[], object]]:
    """The per-record cost of three typical route conditions on StreamRecords (what a Router
    with three DSL routes evaluates for every record), beside Powertools' BatchProcessor with a
    no-op record handler, whose per-record overhead the router goal is measured against."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    from ddbstream import StreamEvent

    expressions = route_conditions()
    matchers = [expr.matches for expr in expressions]  # fetched once, as the Router does
    dicts = json.loads(json.dumps(event))["Records"]
    records = StreamEvent.from_lambda({"Records": dicts}).records
    first, second, third = matchers
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    powertools_event = json.loads(json.dumps(event))

    def bare() -> object:
        for record in records:
            _noop(record)
        return None

    def one(match: Callable[[Any], bool]) -> Callable[[], object]:
        def run() -> object:
            for record in records:
                match(record)
            return None

        return run

    def three(items: list[Any]) -> Callable[[], object]:
        def run() -> object:
            for record in items:
                first(record)
                second(record)
                third(record)
            return None

        return run

    def property_each_call() -> object:
        expr = expressions[0]
        for record in records:
            expr.matches(record)
        return None

    def powertools() -> object:
        return process_partial_response(
            event=powertools_event, record_handler=_noop, processor=processor
        )

    contenders: dict[str, Callable[[], object]] = {"bare loop": bare}
    for expr, match in zip(expressions, matchers, strict=True):
        contenders[f"{expr!r} (StreamRecord)"] = one(match)
    contenders["3 conditions (StreamRecord)"] = three(list(records))
    contenders["3 conditions (Lambda dict)"] = three(dicts)
    contenders[f"{expressions[0]!r}: expr.matches(r) each call"] = property_each_call
    contenders["powertools BatchProcessor (no-op)"] = powertools
    return contenders


def print_conditions(results: list[Result], n: int, out: Any = None) -> dict[str, float]:
    """Per-record cost above the bare loop, and the ratio to Powertools' per-record overhead;
    returns the per-record costs in microseconds."""
    out = out or sys.stdout
    named = {r.name: r for r in results}
    floor = named["bare loop"].median
    per_record = {name: (r.median - floor) / n * 1e6 for name, r in named.items()}
    powertools = per_record["powertools BatchProcessor (no-op)"]
    print("| contender | per record (above the bare loop) | ÷ Powertools' overhead |", file=out)
    print("|---|---|---|", file=out)
    for name, cost in per_record.items():
        if name != "bare loop":
            print(f"| {name} | {cost:.3f} µs | {cost / powertools:.2f}x |", file=out)
    return per_record


def limit_contenders() -> dict[str, Callable[[], object]]:
    """One-shot costs the hardening work bounds: building and first matching a filter with
    1000 $or combinations, a pathological wildcard, and the deepest pattern 4096 characters
    allow."""
    from ddbstream.filters import Filter

    combos: dict[str, Any] = {
        key: {"$or": [{f"{key}{i}": ["1"]} for i in range(10)]} for key in ("a", "b", "c")
    }
    record = {"a": {"a9": "1"}, "b": {"b9": "1"}, "c": {"c9": "1"}}
    wildcard = Filter.from_pattern({"v": [{"wildcard": "*a*a*a*a*a*a*b"}]})
    letters = {"v": "a" * 120}
    deep: Any = ["x"]
    for _ in range(818):
        deep = {"": deep}

    def build_and_first_match() -> object:
        return Filter.from_pattern(combos).matches(record)

    return {
        "1000 $or combinations: build + first match": build_and_first_match,
        "wildcard *a*a*a*a*a*a*b on 120 letters": lambda: wildcard.matches(letters),
        "818-level pattern: build": lambda: Filter.from_pattern(deep),
    }


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

GOALS = (
    # (goal, contender, reference, kind, bound)
    #   "faster": reference / contender >= bound  (contender is `bound` times faster)
    #   "at most": contender / reference <= bound
    (
        "Filter (prefix) <= 0.10x json.loads",
        "ddbstream Filter (prefix)",
        "json.loads",
        "at most",
        0.10,
    ),
    (
        "Filter (exact) <= 0.10x json.loads",
        "ddbstream Filter (exact)",
        "json.loads",
        "at most",
        0.10,
    ),
    (
        "Filter (exact) >= 20x faster than event-ruler",
        "ddbstream Filter (exact)",
        "event-ruler (exact)",
        "faster",
        20.0,
    ),
)


def _fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def print_results(results: list[Result], sizes: dict[str, int], out: Any = None) -> None:
    """A Markdown table: median per event and per 1000 records, ratio to json.loads, and how
    many times faster than event-ruler (the ``exact`` pattern's contenders only)."""
    out = out or sys.stdout
    header = ["records", "contender", "per event", "per 1000 records", "spread", "÷ json.loads"]
    header.append("vs event-ruler")
    by_group: dict[str, dict[str, Result]] = {}
    for result in results:
        by_group.setdefault(result.group, {})[result.name] = result
    rows = []
    for result in results:
        named = by_group[result.group]
        base = named.get("json.loads")
        ruler = named.get("event-ruler (exact)")
        per_1000 = result.median * 1000 / sizes[result.group]
        speedup = ""
        if ruler is not None and result.name.endswith("(exact)") and result is not ruler:
            speedup = f"{ruler.median / result.median:.1f}x faster"
        rows.append(
            [
                str(sizes[result.group]),
                result.name,
                _fmt(result.median),
                _fmt(per_1000),
                f"±{result.spread:.0%}",
                f"{result.median / base.median:.3f}x" if base else "",
                speedup,
            ]
        )
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(header), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for row in rows:
        print(line(row), file=out)


def run_patterns(args: argparse.Namespace) -> tuple[list[Result], list[dict[str, Any]], Any]:
    """The pattern benchmark at every size: results, goals, agreement counts."""
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results: list[Result] = []
    group_sizes: dict[str, int] = {}
    agreement: dict[str, dict[str, int]] = {}
    for size in sizes:
        event = orders_event(size)
        group = f"orders/{size}"
        group_sizes[group] = size
        counts = check_agreement(event)
        agreement[group] = counts
        print(
            f"  {group:>13}  agreement on all {counts['records']} records: "
            f"{counts['prefix matches']} match the prefix pattern, "
            f"{counts['exact matches']} the exact one (ddbstream == event-ruler); "
            f"{len(json.dumps(event)) // size} bytes of JSON per record",
            flush=True,
        )
        repeats = args.repeats if size < 10_000 else max(5, args.repeats // 3)
        chosen = contenders(event)
        # The inputs live for the whole group: freezing them keeps the harness's gc.collect()
        # between repeats from re-scanning a 10,000-record event (a third of a second each).
        gc.freeze()
        try:
            group_results = measure_interleaved(
                chosen, group=group, repeats=repeats, clock=args.clock
            )
        finally:
            gc.unfreeze()
        del chosen, event
        results.extend(group_results)
        for result in group_results:
            print(f"  {group:>13}  {result.name:<30} {result.median * 1e3:9.3f} ms", flush=True)
    print()
    print_results(results, group_sizes)
    goal_groups = [f"orders/{size}" for size in sizes if size == 1000] or list(group_sizes)
    goals = check_goals(results, goal_groups, GOALS, digits=3)
    if goals:
        print("\nGoals (medians):")
        for row in goals:
            mark = "met" if row["met"] else "NOT met"
            print(f"  {row['group']:<12} {row['goal']:<46} {row['measured']:<14} {mark}")
    return results, goals, agreement


def run_conditions(args: argparse.Namespace) -> list[Result]:
    """Route conditions on 1000 StreamRecords, beside Powertools' per-record overhead."""
    n = 1000
    results = measure_interleaved(
        condition_contenders(orders_event(n)),
        group=f"conditions/{n}",
        repeats=args.repeats,
        clock=args.clock,
    )
    print(f"\n## Route conditions, {n} StreamRecords of the orders event\n")
    per_record = print_conditions(results, n)
    three = per_record["3 conditions (StreamRecord)"]
    powertools = per_record["powertools BatchProcessor (no-op)"]
    print(
        f"\nThree conditions cost {three:.3f} µs per record, {three / powertools:.2f}x "
        f"Powertools' per-record overhead ({powertools:.3f} µs); a Router with three DSL "
        "routes must fit these and its own loop in 0.5x."
    )
    return results


def run_limits(args: argparse.Namespace) -> list[Result]:
    """One-shot costs of the patterns that used to take seconds."""
    results = [
        measure(name, fn, group="limits", repeats=max(5, args.repeats // 3), clock=args.clock)
        for name, fn in limit_contenders().items()
    ]
    print("\n## Limits\n")
    print("| case | median |")
    print("|---|---|")
    for result in results:
        print(f"| {result.name} | {_fmt(result.median)} |")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="records per event")
    parser.add_argument("--repeats", type=int, default=15, help="repeats per median")
    parser.add_argument("--parts", default="patterns,conditions,limits", help="which parts to run")
    add_output_options(parser, "filters", clock=True)
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    info = machine()
    print(f"# filters benchmark: Python {info['python']}, {info['cores']} cores, {info['cpu']}")
    results: list[Result] = []
    goals: list[dict[str, Any]] = []
    agreement: Any = {}
    if "patterns" in parts:
        found, goals, agreement = run_patterns(args)
        results += found
    if "conditions" in parts:
        results += run_conditions(args)
    if "limits" in parts:
        results += run_limits(args)
    if args.json is not None:
        path = save_json(
            "filters",
            results,
            path=args.json or None,
            goals=goals,
            agreement=agreement,
            patterns={"prefix": PREFIX_PATTERN, "exact": EXACT_PATTERN},
        )
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
