"""Cold start: import + first event in a fresh interpreter of the target Python, ddbstream beside
a Powertools batch handler doing the same job, each from its own deployment folder::

    .venv/bin/python bench/coldstart.py                    # Python 3.12 and 3.13, 40 runs each
    .venv/bin/python bench/coldstart.py --pythons 3.13 --runs 100 --json

The job: 100 stream records (MODIFY, NEW_AND_OLD_IMAGES), of which every third is an order that
became SHIPPED; the handler collects those orders. Two pairs of contenders:

* typed: ddbstream ``Router`` with ``route(..., model=Order)`` (``ddbstream[pydantic]``) vs
  Powertools ``BatchProcessor(EventType.DynamoDBStreams, model=OrderRecord)``, a parser model
  whose ``NewImage`` is the same pydantic ``Order`` (``aws-lambda-powertools[parser]``);
* untyped: a ddbstream ``Router`` reading ``record.new_image`` (bare ``ddbstream``) vs
  Powertools ``BatchProcessor(EventType.DynamoDBStreams)`` reading the data class.

Each folder is built by the recipe of docs/deploy.md (``examples/deploy/build_package.py``) for
the target Python on x86_64 (this machine), with bytecode compiled by that Python
(``unchecked-hash``), as a deployment package ships it; "no .pyc" is the same folder without
``__pycache__``, as pip's ``--target`` used to leave it for another Python: every cold start
then compiles every module (``/var/task`` is read-only, so nothing is cached).

Each run is a fresh ``python -I -B`` (no user site, no environment variables, no bytecode
written: ``/var/task`` is read-only) whose ``sys.path`` starts with the folder. It reads the
event, then times ``import handler`` and the first ``handler.handler(event, None)``, in wall
time (``time.perf_counter``) and CPU time (``time.process_time``: steadier on a shared
machine), and reports its peak RSS. Runs are interleaved (one of each contender, then the next
round) so that load on the machine spreads over all of them; the first round is a warm-up (file
cache) and not counted. Medians and p90.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import RESULTS_DIR, machine
from _lambda import build_package, wheel

DDBSTREAM_TYPED = """
from decimal import Decimal

from pydantic import BaseModel

from ddbstream import Router
from ddbstream.filters import event_name, new_image

router = Router()
shipped = []


class Order(BaseModel):
    pk: str
    status: str
    total: Decimal


@router.route((event_name == "MODIFY") & (new_image("status") == "SHIPPED"), model=Order)
def ship(record):
    shipped.append(record.new.pk)


def handler(event, context):
    return router.handle(event, context)
"""

POWERTOOLS_TYPED = """
from decimal import Decimal
from typing import Optional

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor, EventType, process_partial_response,
)
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamChangedRecordModel, DynamoDBStreamRecordModel,
)
from pydantic import BaseModel

shipped = []


class Order(BaseModel):
    pk: str
    status: str
    total: Decimal


class OrderChange(DynamoDBStreamChangedRecordModel):
    NewImage: Optional[Order] = None
    OldImage: Optional[Order] = None


class OrderRecord(DynamoDBStreamRecordModel):
    dynamodb: OrderChange


processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=OrderRecord)


def ship(record):
    new = record.dynamodb.NewImage
    if record.eventName == "MODIFY" and new is not None and new.status == "SHIPPED":
        shipped.append(new.pk)


def handler(event, context):
    return process_partial_response(
        event=event, record_handler=ship, processor=processor, context=context
    )
"""

DDBSTREAM_PLAIN = """
from ddbstream import Router
from ddbstream.filters import event_name, new_image

router = Router()
shipped = []


@router.route((event_name == "MODIFY") & (new_image("status") == "SHIPPED"))
def ship(record):
    shipped.append(record.new_image["pk"])


def handler(event, context):
    return router.handle(event, context)
"""

POWERTOOLS_PLAIN = """
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor, EventType, process_partial_response,
)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
shipped = []


def ship(record):
    new = record.dynamodb.new_image
    if record.event_name.name == "MODIFY" and new.get("status") == "SHIPPED":
        shipped.append(new["pk"])


def handler(event, context):
    return process_partial_response(
        event=event, record_handler=ship, processor=processor, context=context
    )
"""

#: name -> (handler source, requirement: an extra of the ddbstream wheel or a PyPI name)
CONTENDERS = {
    "ddbstream typed route": (DDBSTREAM_TYPED, "wheel[pydantic]"),
    "Powertools typed BatchProcessor": (POWERTOOLS_TYPED, "aws-lambda-powertools[parser]"),
    "ddbstream untyped route": (DDBSTREAM_PLAIN, "wheel"),
    "Powertools data-class BatchProcessor": (POWERTOOLS_PLAIN, "aws-lambda-powertools"),
}

RUN = """
import json, resource, sys, time
folder, event_path = sys.argv[1], sys.argv[2]
sys.path.insert(0, folder)
event = json.loads(open(event_path).read())
start, cpu_start = time.perf_counter(), time.process_time()
import handler
imported = time.perf_counter()
response = handler.handler(event, None)
done, cpu_done = time.perf_counter(), time.process_time()
print(json.dumps({"import_s": imported - start, "total_s": done - start,
                  "cpu_s": cpu_done - cpu_start,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "shipped": len(handler.shipped), "response": response}))
"""


def make_event(records: int) -> dict[str, object]:
    from ddbstream.testing import lambda_event, modify

    changes = []
    for i in range(records):
        old = {"pk": f"ORDER#{i}", "status": "NEW", "total": 10 + i}
        new = {**old, "status": "SHIPPED" if i % 3 == 0 else "PAID"}
        changes.append(modify(old, new))
    return lambda_event(*changes)


def build_folders(root: Path, version: str) -> dict[tuple[str, bool], Path]:
    """(contender, with bytecode) -> its deployment folder, for one target Python."""
    interpreter = build_package.find_interpreter(version)
    ddbstream_wheel = wheel(root / "wheel")
    folders = {}
    for name, (source, requirement) in CONTENDERS.items():
        folder = root / f"{version}-{len(folders)}"
        handler = root / "handler.py"
        handler.write_text(source)
        req = requirement.replace("wheel", str(ddbstream_wheel), 1)
        build_package.build(
            folder,
            [req],
            python_version=version,
            arch="x86_64",
            interpreter=interpreter,
            handler=handler,
        )
        plain = folder.with_name(folder.name + "-nopyc")
        shutil.copytree(folder, plain, ignore=shutil.ignore_patterns("__pycache__"))
        folders[name, True] = folder
        folders[name, False] = plain
    return folders


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_once(interpreter: str, folder: Path, event_path: Path) -> dict[str, object]:
    started = time.perf_counter()
    done = subprocess.run(
        [interpreter, "-I", "-B", "-c", RUN, str(folder), str(event_path)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    sample: dict[str, object] = json.loads(done.stdout)
    sample["process_s"] = time.perf_counter() - started
    return sample


def bench_version(version: str, runs: int, records: int, tmp: Path) -> list[dict[str, object]]:
    interpreter = build_package.find_interpreter(version)
    folders = build_folders(tmp / version, version)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(make_event(records)))
    samples: dict[tuple[str, bool], list[dict[str, object]]] = {key: [] for key in folders}
    bare: list[float] = []
    keys = list(folders)
    for round_ in range(runs + 1):
        random.shuffle(keys)
        started = time.perf_counter()
        subprocess.run([interpreter, "-I", "-c", "pass"], check=True)
        if round_:
            bare.append(time.perf_counter() - started)
        for key in keys:
            sample = run_once(interpreter, folders[key], event_path)
            if round_:
                samples[key].append(sample)
    rows = []
    for (name, bytecode), got in samples.items():
        shipped = {s["shipped"] for s in got}
        assert shipped == {len(range(0, records, 3))}, (name, shipped)
        assert all(s["response"] in ({"batchItemFailures": []}, None) for s in got), name
        totals = [float(s["total_s"]) * 1e3 for s in got]  # type: ignore[arg-type]
        imports = [float(s["import_s"]) * 1e3 for s in got]  # type: ignore[arg-type]
        processes = [float(s["process_s"]) * 1e3 for s in got]  # type: ignore[arg-type]
        cpus = [float(s["cpu_s"]) * 1e3 for s in got]  # type: ignore[arg-type]
        rows.append(
            {
                "python": version,
                "contender": name,
                "bytecode": bytecode,
                "runs": len(got),
                "import_first_event_ms_median": statistics.median(totals),
                "import_first_event_ms_p90": percentile(totals, 0.9),
                "import_ms_median": statistics.median(imports),
                "cpu_ms_median": statistics.median(cpus),
                "cpu_ms_p90": percentile(cpus, 0.9),
                "process_ms_median": statistics.median(processes),
                "bare_interpreter_ms_median": statistics.median(bare) * 1e3,
                "peak_rss_mb_median": statistics.median(
                    float(s["rss_kb"]) / 1024  # type: ignore[arg-type]
                    for s in got
                ),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pythons", default="3.12,3.13")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--json", nargs="?", const="", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    info = machine()
    print(f"# cold start: {info['cores']} cores, {info['cpu']}; {args.runs} runs per cell")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ddbstream-coldstart-") as tmp:
        for version in args.pythons.split(","):
            rows += bench_version(version, args.runs, args.records, Path(tmp))
    print(
        "\n| Python | handler | bytecode | import + first event: wall, median | p90 "
        "| CPU, median | CPU p90 | import alone (wall) | whole process (wall) | peak RSS |"
        "\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for row in rows:
        print(
            f"| {row['python']} | {row['contender']} | {'.pyc' if row['bytecode'] else 'no .pyc'}"
            f" | {row['import_first_event_ms_median']:.0f} ms"
            f" | {row['import_first_event_ms_p90']:.0f} ms | {row['cpu_ms_median']:.0f} ms"
            f" | {row['cpu_ms_p90']:.0f} ms | {row['import_ms_median']:.0f} ms"
            f" | {row['process_ms_median']:.0f} ms | {row['peak_rss_mb_median']:.0f} MB |"
        )
    bare = {row["python"]: row["bare_interpreter_ms_median"] for row in rows}
    print("\nbare interpreter (python -I -c pass), median: " + ", ".join(
        f"{version}: {ms:.0f} ms" for version, ms in bare.items()
    ))  # fmt: skip
    if args.json is not None:
        path = Path(args.json) if args.json else RESULTS_DIR / "coldstart.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"machine": info, "rows": rows}, indent=2) + "\n")
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
