"""Shared parts of the Lambda packaging benchmarks (``coldstart.py``, ``package_size.py``):
the ddbstream wheel of this checkout, and deployment folders built with the recipe of
docs/deploy.md (``examples/deploy/build_package.py``), for a target Python and architecture."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "deploy"))

import build_package  # noqa: E402

__all__ = ["ROOT", "build_package", "folder_bytes", "wheel"]


def wheel(out: Path | None = None) -> Path:
    """Build the ddbstream wheel of this checkout (``python -m build --wheel``)."""
    out = out or Path(tempfile.mkdtemp(prefix="ddbstream-wheel-"))
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("ddbstream-*.whl")
    return found


def folder_bytes(folder: Path) -> int:
    """The bytes of every file under ``folder`` (what Lambda's unzipped limit counts)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
