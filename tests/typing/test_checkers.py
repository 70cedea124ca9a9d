"""mypy --strict and pyright (strict) accept the typing tests, the README handler and the routing
and records examples, and still reject every negative case (each ``# type: ignore[...]`` must
stay needed).

Runs both checkers in a subprocess, as ``make typecheck`` does; pyright comes with the ``dev``
extra (``.venv/bin/pip install pyright``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TYPING = ROOT / "tests" / "typing"
EXAMPLES = [ROOT / "examples" / name for name in ("readme", "routing", "records")]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600
    )


def test_mypy_strict() -> None:
    done = _run([sys.executable, "-m", "mypy", "--strict", str(TYPING), *map(str, EXAMPLES)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_pyright_strict() -> None:
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent)) or "pyright"
    done = _run([pyright, "-p", str(TYPING / "pyrightconfig.json")])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors" in done.stdout
