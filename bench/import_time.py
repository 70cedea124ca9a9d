"""Import-time benchmark: what ``import ddbstream`` adds to a Lambda cold start.

Each statement runs in a fresh interpreter (the one running this script, so the same venv),
many times, interleaved with a bare ``python -c pass``::

    .venv/bin/python bench/import_time.py            # 40 runs per statement
    .venv/bin/python bench/import_time.py --runs 100 --json

Two measures per statement, both as medians:

* ``wall - bare``: wall time of ``python -c "<statement>"`` minus the median wall time of
  ``python -c pass``: the whole cost, interpreter work included.
* ``importtime``: the cumulative microseconds ``python -X importtime`` reports for the
  statement's top-level imports (what the imports themselves cost, without process start).

Bytecode is cached, as in a deployment package that ships ``.pyc`` files: the subprocesses get
``PYTHONPYCACHEPREFIX`` pointing at a fresh temporary folder (and no
``PYTHONDONTWRITEBYTECODE``), and the untimed warm-up runs fill it. Without that, a checkout
with ``PYTHONDONTWRITEBYTECODE=1`` recompiles ddbstream's source at every start, which is not
what a deployed function does (``--no-bytecode-cache`` measures it anyway).

The goal from issue 2 is ``import ddbstream`` <= 30 ms above a bare interpreter.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Result, add_output_options, machine, save_json

STATEMENTS = {
    "import ddbstream": "import ddbstream",
    "from ddbstream import StreamEvent": "from ddbstream import StreamEvent",
    "import boto3": "import boto3",
    "import pydantic": "import pydantic",
    "Powertools DynamoDBStreamEvent": (
        "from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent"
    ),
    "Powertools DynamoDBStreamModel": (
        "from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel"
    ),
}
GOAL_MS = 30.0
_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


_ENV = dict(os.environ)


def _wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=_ENV)
    return time.perf_counter() - start


def _importtime(code: str) -> float:
    """Seconds of cumulative import time of the top-level imports ``code`` triggers."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=_ENV,
    )
    total = 0
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        # Top-level entries have exactly one space of indentation before the module name.
        if match and len(match.group(3)) == 1:
            total += int(match.group(2))
    return total / 1e6


def _baseline_imports() -> set[str]:
    """Modules a bare interpreter has already imported (their cost is not ours)."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; print('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(done.stdout.split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs per statement")
    parser.add_argument("--only", default="", help="comma-separated statement name prefixes")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep the environment as it is (with PYTHONDONTWRITEBYTECODE=1, sources without "
        "a .pyc are compiled at every start)",
    )
    add_output_options(parser, "import_time", clock=False)
    args = parser.parse_args(argv)
    only = [o.strip() for o in args.only.split(",") if o.strip()]
    statements = {
        name: code
        for name, code in STATEMENTS.items()
        if not only or any(name.startswith(o) for o in only)
    }
    if not args.no_bytecode_cache:
        _ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        _ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="ddbstream-bench-pycache-")
    info = machine()
    print(f"# import-time benchmark: Python {info['python']}, {info['cores']} cores, {info['cpu']}")

    for code in ("pass", *statements.values()):  # warm the OS file cache and .pyc files
        _wall(code)
        _wall(code)
    bare: list[float] = []
    walls: dict[str, list[float]] = {name: [] for name in statements}
    imports: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(args.runs):
        bare.append(_wall("pass"))
        for name, code in statements.items():
            walls[name].append(_wall(code))
            imports[name].append(_importtime(code))
    bare_median = statistics.median(bare)

    results = [Result("python -c pass", "wall", tuple(bare), 1)]
    rows = []
    for name in statements:
        results.append(Result(name, "wall", tuple(walls[name]), 1))
        results.append(Result(name, "importtime", tuple(imports[name]), 1))
        above = statistics.median(walls[name]) - bare_median
        rows.append((name, above * 1e3, statistics.median(imports[name]) * 1e3))

    print(
        f"\nbare interpreter (python -c pass): {bare_median * 1e3:.1f} ms (median of {args.runs})"
    )
    print(f"bytecode: {'as the environment has it' if args.no_bytecode_cache else 'cached'}")
    print()
    print("| statement | wall - bare (median) | -X importtime (median) |")
    print("|---|---|---|")
    for name, above, cumulative in rows:
        print(f"| `{name}` | {above:.1f} ms | {cumulative:.1f} ms |")

    goal = next((row for row in rows if row[0] == "import ddbstream"), None)
    goals = []
    if goal is not None:
        met = goal[1] <= GOAL_MS
        goals.append(
            {
                "goal": f"import ddbstream <= {GOAL_MS:.0f} ms above a bare interpreter",
                "measured_ms": goal[1],
                "importtime_ms": goal[2],
                "met": met,
            }
        )
        print(
            f"\nGoal: import ddbstream <= {GOAL_MS:.0f} ms above bare: "
            f"{goal[1]:.1f} ms ({goal[2]:.1f} ms by -X importtime): {'met' if met else 'NOT met'}"
        )
    heavy = {"boto3", "botocore", "pydantic", "hypothesis", "pytest"}
    done = subprocess.run(
        [sys.executable, "-c", "import sys, ddbstream; print('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    )
    loaded = set(done.stdout.split()) - _baseline_imports()
    ours = sorted(m for m in loaded if m.split(".")[0] == "ddbstream")
    others = sorted(m for m in loaded if m.split(".")[0] != "ddbstream")
    print(f"\n`import ddbstream` loads {len(ours)} ddbstream modules and {len(others)} others")
    print(f"heavy modules loaded: {sorted(heavy & {m.split('.')[0] for m in loaded}) or 'none'}")
    if args.json is not None:
        path = save_json(
            "import_time",
            results,
            path=args.json or None,
            goals=goals,
            bare_median=bare_median,
            bytecode_cache=not args.no_bytecode_cache,
            modules={"ddbstream": ours, "other": others},
        )
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
