"""Small shared timing helpers for the ddbstream benchmarks.

Every benchmark runs its contenders in one process, on the same input, and reports the median of
several repeats. The garbage collector is switched off while a repeat runs (as ``timeit`` does)
and a full collection runs between repeats, so one contender's garbage is not paid by the next.

Used by ``bench/decode.py`` and ``bench/import_time.py``; later benchmarks (router, filters,
aggregate, runner) reuse it::

    from _harness import Result, measure, print_table, save_json

    results = [measure("json.loads", lambda: json.loads(text), group="invoice/1000")]
    print_table(results, baseline="json.loads")
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS_DIR",
    "Result",
    "machine",
    "measure",
    "measure_interleaved",
    "print_table",
    "save_json",
]

#: Where ``--json`` output goes (git-ignored).
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Result:
    """The timings of one contender on one input: seconds per call, one entry per repeat."""

    name: str
    group: str
    times: tuple[float, ...]
    number: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median (0.05 = the middle half is within 5%)."""
        if len(self.times) < 4:
            return (max(self.times) - min(self.times)) / self.median if self.median else 0.0
        q1, _, q3 = statistics.quantiles(self.times, n=4)
        return (q3 - q1) / self.median if self.median else 0.0


def _calibrate(fn: Callable[[], object], min_time: float) -> int:
    """Calls per repeat so that one repeat lasts at least ``min_time`` seconds."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or number >= 1_000_000:
            return number
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9)) + 1)


def measure(
    name: str,
    fn: Callable[[], object],
    *,
    group: str = "",
    repeats: int = 15,
    min_time: float = 0.05,
    warmup: int = 1,
    disable_gc: bool = True,
    setup: Callable[[], object] | None = None,
    extra: dict[str, Any] | None = None,
    clock: str = "wall",
) -> Result:
    """Time ``fn()`` and return one per-call time for each repeat.

    Args:
        name: the contender's label in the table.
        fn: the work to time, with all inputs already built.
        group: the input it ran on (e.g. ``"invoice/1000"``).
        repeats: how many repeats the median is taken over.
        min_time: each repeat runs ``fn`` enough times to last at least this long.
        warmup: untimed calls first (caches, adaptive bytecode).
        disable_gc: switch the garbage collector off while a repeat runs.
        setup: called, untimed, before every single call (then each repeat calls ``fn`` once;
            use it when ``fn`` must see fresh state, e.g. new objects with empty caches).
        extra: anything to store with the result.
        clock: ``"wall"`` (``time.perf_counter``) or ``"cpu"`` (``time.process_time``: this
            process's CPU time, steadier on a machine shared with other work).
    """
    timer = time.perf_counter if clock == "wall" else time.process_time
    for _ in range(warmup):
        if setup is not None:
            setup()
        fn()
    number = 1 if setup is not None else _calibrate(fn, min_time)
    times: list[float] = []
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(repeats):
            gc.collect()
            if setup is not None:
                setup()
            if disable_gc:
                gc.disable()
            start = timer()
            for _ in range(number):
                fn()
            elapsed = timer() - start
            if gc_was_enabled:
                gc.enable()
            times.append(elapsed / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return Result(name, group, tuple(times), number, {"clock": clock, **(extra or {})})


def measure_interleaved(
    contenders: dict[str, Callable[[], object]],
    *,
    group: str = "",
    repeats: int = 15,
    min_time: float = 0.05,
    warmup: int = 1,
    disable_gc: bool = True,
    clock: str = "wall",
) -> list[Result]:
    """Time several contenders round-robin: repeat 1 of each, then repeat 2 of each, ...

    On a machine shared with other work, load comes and goes; interleaving spreads it over
    all contenders alike, so their ratios stay fair even when absolute times wobble. Arguments
    as for :func:`measure`.
    """
    timer = time.perf_counter if clock == "wall" else time.process_time
    numbers: dict[str, int] = {}
    for name, fn in contenders.items():
        for _ in range(warmup):
            fn()
        numbers[name] = _calibrate(fn, min_time)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()  # the inputs live throughout: keep them out of every later collection
    try:
        for _ in range(repeats):
            for name, fn in contenders.items():
                number = numbers[name]
                gc.collect()
                if disable_gc:
                    gc.disable()
                start = timer()
                for _ in range(number):
                    fn()
                elapsed = timer() - start
                if gc_was_enabled:
                    gc.enable()
                times[name].append(elapsed / number)
    finally:
        gc.unfreeze()
        if gc_was_enabled:
            gc.enable()
    return [
        Result(name, group, tuple(times[name]), numbers[name], {"clock": clock})
        for name in contenders
    ]


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def print_table(
    results: Sequence[Result],
    *,
    baseline: str | None = None,
    ratios: Iterable[tuple[str, str]] = (),
    out: Any = None,
) -> None:
    """Print a Markdown table: median, spread and the ratio to ``baseline`` per group.

    Args:
        results: the results, printed in order.
        baseline: the contender every ratio column divides by (per group).
        ratios: extra ``(numerator, denominator)`` contender pairs, printed per group below
            the table as ``numerator / denominator``.
        out: a file object (default stdout).
    """
    out = out or sys.stdout
    by_group: dict[str, dict[str, Result]] = {}
    for result in results:
        by_group.setdefault(result.group, {})[result.name] = result
    header = ["input", "contender", "median", "spread"]
    if baseline:
        header.append(f"÷ {baseline}")
    rows = []
    for result in results:
        row = [result.group, result.name, _fmt_time(result.median), f"±{result.spread:.0%}"]
        if baseline:
            base = by_group[result.group].get(baseline)
            row.append(f"{result.median / base.median:.2f}x" if base else "")
        rows.append(row)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(header), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for row in rows:
        print(line(row), file=out)
    pairs = list(ratios)
    if pairs:
        print(file=out)
        for group, named in by_group.items():
            parts = []
            for num, den in pairs:
                if num in named and den in named:
                    parts.append(f"{den} / {num} = {named[den].median / named[num].median:.2f}x")
            if parts:
                print(f"{group}: " + "; ".join(parts), file=out)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for text in f:
                if text.startswith("model name"):
                    cpu = text.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
    }


def save_json(
    name: str, results: Sequence[Result], *, path: str | os.PathLike[str] | None = None, **meta: Any
) -> Path:
    """Write the results (and the machine) as JSON; returns the file written.

    The default path is ``bench/results/<name>.json``.
    """
    target = Path(path) if path else RESULTS_DIR / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        **meta,
        "results": [
            {**asdict(r), "median": r.median, "best": r.best, "spread": r.spread} for r in results
        ],
    }
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return target


Goal = tuple[str, str, str, str, float]  # (label, contender, reference, "faster"|"at most", bound)


def check_goals(
    results: list[Result], groups: list[str], goals: tuple[Goal, ...], *, digits: int = 2
) -> list[dict[str, Any]]:
    """Evaluate goals on the given groups: one row per goal and group whose contenders ran.

    ``"faster"`` goals hold when the reference's median is at least ``bound`` times the
    contender's; ``"at most"`` goals when the contender's median is at most ``bound`` times the
    reference's.
    """
    rows = []
    for group in groups:
        named = {r.name: r for r in results if r.group == group}
        for goal, contender, reference, kind, bound in goals:
            if contender not in named or reference not in named:
                continue
            ratio = named[contender].median / named[reference].median
            if kind == "faster":
                measured, met = f"{1 / ratio:.{digits - 1}f}x faster", 1 / ratio >= bound
            else:
                measured, met = f"{ratio:.{digits}f}x", ratio <= bound
            rows.append(
                {"group": group, "goal": goal, "measured": measured, "ratio": ratio, "met": met}
            )
    return rows


def add_output_options(parser: argparse.ArgumentParser, name: str, *, clock: bool = True) -> None:
    """The options every benchmark shares: ``--clock`` (cpu or wall) and ``--json [PATH]``."""
    if clock:
        parser.add_argument(
            "--clock",
            choices=("wall", "cpu"),
            default="cpu",
            help="this process's CPU time (process_time, the default: steady on a shared "
            "machine) or wall time (perf_counter)",
        )
    parser.add_argument(
        "--json",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help=f"also write the results as JSON (default bench/results/{name}.json)",
    )
