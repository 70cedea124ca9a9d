"""The distributions users install: built with ``python -m build``, checked with ``twine check``,
and smoke-tested from the wheel installed (not editable) into fresh virtualenvs of the oldest
supported Python (3.10), the newest on the machine (3.13) and the one running the tests.

In a venv with the bare wheel (typing-extensions only) ``import ddbstream`` and an untyped
``Router`` work, and each optional feature names the ``pip install 'ddbstream[extra]'`` line that
brings what it needs; with pydantic added, the README's handler returns its documented response.
``tests/package_smoke.py`` runs inside each venv. These tests share one build and run on one
xdist worker (``xdist_group``; ``make test`` passes ``--dist loadgroup``).

Other interpreters: ``DDBSTREAM_SMOKE_PYTHONS=/path/to/python3.10:/path/to/python3.13``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from email.parser import HeaderParser
from pathlib import Path

import pytest

import ddbstream

ROOT = Path(__file__).resolve().parent.parent
VERSION = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)[1]  # type: ignore[index]
WHEEL = f"ddbstream-{VERSION}-py3-none-any.whl"
SDIST = f"ddbstream-{VERSION}.tar.gz"
PYTHONS = ("3.10", "3.13", "current")

pytestmark = pytest.mark.xdist_group("package")


def _run(*args: str | Path, cwd: Path | None = None, timeout: int = 600) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _works(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "pass"], capture_output=True, check=False, timeout=60)
    except OSError:
        return False
    return done.returncode == 0


def find_python(version: str) -> str | None:
    """An interpreter for ``version`` ("3.10"): on PATH, or a pyenv install, that really runs
    (a pyenv shim for a version that is not selected is on PATH but fails)."""
    if version == "current":
        return sys.executable
    preset = os.environ.get("DDBSTREAM_SMOKE_PYTHONS")
    if preset:
        for python in preset.split(os.pathsep):
            if python.rstrip("0123456789.").endswith("python") and python.endswith(version):
                return python
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        shutil.which(f"python{version}"),
        *sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"), reverse=True),
    ]
    return next((c for c in candidates if c and _works(c)), None)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist and wheel of the working tree; the wheel is built from the sdist, so the sdist is
    complete."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    assert sorted(p.name for p in out.iterdir()) == [WHEEL, SDIST]
    return out


def test_twine_accepts_both_distributions(dist: Path) -> None:
    report = _run(sys.executable, "-m", "twine", "check", "--strict", dist / WHEEL, dist / SDIST)
    assert report.count("PASSED") == 2, report


def test_wheel_metadata(dist: Path) -> None:
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        names = set(wheel.namelist())
        metadata = HeaderParser().parsestr(
            wheel.read(f"ddbstream-{VERSION}.dist-info/METADATA").decode()
        )
        entry_points = wheel.read(f"ddbstream-{VERSION}.dist-info/entry_points.txt").decode()
    assert {"ddbstream/__init__.py", "ddbstream/py.typed", "ddbstream/testing/_plugin.py"} <= names
    assert not [n for n in names if n.startswith(("tests/", "examples/", "docs/"))]
    requires = metadata.get_all("Requires-Dist") or []
    assert [r for r in requires if "extra ==" not in r] == ["typing-extensions>=4.12"]
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"pydantic", "aws", "testing", "all"} <= extras
    classifiers = metadata.get_all("Classifier") or []
    assert [
        c for c in classifiers if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ] == [f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 15)]
    assert metadata["Requires-Python"] == ">=3.10"
    assert "ddbstream = ddbstream.cli:main" in entry_points
    assert "ddbstream = ddbstream.testing._plugin" in entry_points


def test_the_version_has_one_source() -> None:
    assert ddbstream.__version__ == VERSION
    assert f'"{VERSION}"' not in (ROOT / "src" / "ddbstream" / "_version.py").read_text()


def test_install_lines_name_the_wheel_that_build_writes() -> None:
    for page in (ROOT / "README.md", ROOT / "docs" / "getting-started.md"):
        assert WHEEL in page.read_text(), f"{page.name} does not name {WHEEL}"


@pytest.fixture(scope="module", params=PYTHONS)
def venv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv of one interpreter, without pip (this venv's pip installs into it)."""
    python = find_python(request.param)
    assert python is not None, (
        f"no Python {request.param} found (PATH, pyenv); set DDBSTREAM_SMOKE_PYTHONS"
    )
    folder = tmp_path_factory.mktemp(f"venv-{request.param}")
    _run(python, "-m", "venv", "--without-pip", folder)
    return folder / "bin" / "python"


def _pip_install(venv: Path, *requirements: str | Path) -> None:
    _run(sys.executable, "-m", "pip", "--python", venv, "install", "--quiet", *requirements)


def _smoke(venv: Path, *args: str | Path, cwd: Path) -> str:
    return _run(venv, ROOT / "tests" / "package_smoke.py", *args, cwd=cwd)


def _version(venv: Path) -> str:
    return _run(venv, "-c", "import platform; print(platform.python_version())").strip()


def _import_cost(venv: Path, cwd: Path) -> int:
    """Microseconds ``-X importtime`` reports for ``import ddbstream`` (recorded, not asserted),
    after checking that it imported nothing outside the standard library and ddbstream."""
    done = subprocess.run(
        [venv, "-X", "importtime", "-c", "import ddbstream"],
        cwd=cwd, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    rows = [line.split("|") for line in done.stderr.splitlines()[1:]]
    names = {row[2].strip() for row in rows}
    assert not {n for n in names if n.partition(".")[0] in {"boto3", "pydantic", "hypothesis"}}
    return next(int(row[1]) for row in rows if row[2].strip() == "ddbstream")


def test_the_wheel_in_fresh_venvs(
    venv: Path, dist: Path, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    _pip_install(venv, dist / WHEEL)
    bare = _smoke(venv, "bare", VERSION, cwd=tmp_path)
    assert bare.count("ok: ") == 5, bare

    cli = _run(venv.parent / "ddbstream", "--help", cwd=tmp_path)
    assert cli.startswith("usage: ddbstream"), cli

    record_property(f"import ddbstream on {_version(venv)} (us)", _import_cost(venv, tmp_path))

    _pip_install(venv, f"{dist / WHEEL}[pydantic]")
    typed = _smoke(venv, "pydantic", VERSION, ROOT / "examples" / "readme", cwd=tmp_path)
    assert "ok: the README handler returns" in typed, typed
