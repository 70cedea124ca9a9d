"""Deployment package sizes: ddbstream with each extra, beside Powertools, per Lambda target.

Each package is built with the recipe of docs/deploy.md (``examples/deploy/build_package.py``:
``pip install --target`` for the target's platform and Python, bytecode compiled by the target's
interpreter), then zipped::

    .venv/bin/python bench/package_size.py                      # 3.12 and 3.13, x86_64 and arm64
    .venv/bin/python bench/package_size.py --targets 3.13/arm64 --json

"unzipped" is the sum of the file sizes (what Lambda's 250 MB limit counts), "zip" the archive
(what is uploaded; 50 MB limit for a direct upload). Every Lambda Python runtime already has
boto3, so ``ddbstream[aws]`` only matters outside Lambda or to pin a boto3 version.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import RESULTS_DIR, machine
from _lambda import build_package, folder_bytes, wheel

CONFIGS = {
    "ddbstream": "",
    "ddbstream[pydantic]": "[pydantic]",
    "ddbstream[aws]": "[aws]",
    "ddbstream[pydantic,aws]": "[pydantic,aws]",
    "aws-lambda-powertools": None,
    "aws-lambda-powertools[parser]": None,
}


def requirements(name: str, ddbstream_wheel: Path) -> list[str]:
    extra = CONFIGS[name]
    return [name] if extra is None else [f"{ddbstream_wheel}{extra}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="3.12/x86_64,3.12/arm64,3.13/x86_64,3.13/arm64")
    parser.add_argument("--json", nargs="?", const="", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    targets = [tuple(t.split("/")) for t in args.targets.split(",")]
    ddbstream_wheel = wheel()
    print(f"# deployment package sizes ({ddbstream_wheel.name}), MB = 10^6 bytes")
    print("\n| package | target | unzipped | zip |\n|---|---|---|---|")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ddbstream-sizes-") as tmp:
        for version, arch in targets:
            interpreter = build_package.find_interpreter(version)
            for name in CONFIGS:
                folder = Path(tmp) / f"{name}-{version}-{arch}"
                build_package.build(
                    folder,
                    requirements(name, ddbstream_wheel),
                    python_version=version,
                    arch=arch,
                    interpreter=interpreter,
                )
                archive = folder.with_suffix(".zip")
                build_package.zip_folder(folder, archive)
                row = {
                    "package": name,
                    "python": version,
                    "arch": arch,
                    "unzipped_bytes": folder_bytes(folder),
                    "zip_bytes": archive.stat().st_size,
                }
                rows.append(row)
                print(
                    f"| {name} | python{version} {arch} | {row['unzipped_bytes'] / 1e6:.2f} MB "
                    f"| {row['zip_bytes'] / 1e6:.2f} MB |",
                    flush=True,
                )
    if args.json is not None:
        path = Path(args.json) if args.json else RESULTS_DIR / "package_size.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
