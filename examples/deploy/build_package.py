"""Build a Lambda deployment package (a zip, or a layer) for a given Python and architecture,
with bytecode compiled by *that* Python.

The recipe of docs/deploy.md, as a script::

    python examples/deploy/build_package.py --python 3.12 --arch arm64 \\
        --requirement 'dist/ddbstream-0.1.0-py3-none-any.whl[pydantic]' \\
        --handler handler.py --zip build/function.zip

    python examples/deploy/build_package.py --python 3.13 --arch x86_64 --layer \\
        --requirement 'dist/ddbstream-0.1.0-py3-none-any.whl[pydantic]' --zip build/layer.zip

1. ``pip install --target`` with ``--platform``, ``--python-version``, ``--implementation cp`` and
   ``--only-binary=:all:`` fetches the wheels of the *target* (manylinux, x86_64 or aarch64),
   whatever machine builds; ``--no-compile`` stops pip from writing bytecode for the Python
   that runs pip (a 3.11 pip would write ``cpython-311.pyc`` files that a 3.12 function never
   reads).
2. ``python3.12 -m compileall --invalidation-mode unchecked-hash`` compiles with the target's
   interpreter (bytecode is the same on both architectures). ``unchecked-hash`` makes Python use
   the ``.pyc`` without comparing it with the source's modification time, which a zip keeps only
   to 2 seconds: with the default timestamp check a ``.pyc`` can look stale after unzipping and
   be recompiled at every cold start (``/var/task`` is read-only, so it is never rewritten).
3. The handler is copied next to the packages (a layer puts everything under ``python/``) and
   the folder is zipped.

The target interpreter must be on this machine (``python3.12`` on PATH, or ``--interpreter``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

__all__ = ["PLATFORMS", "build", "compile_for", "install_for", "pyc_tag", "zip_folder"]

#: pip ``--platform`` tags per Lambda architecture: Amazon Linux 2023 (python3.12 and later)
#: has glibc 2.34, so manylinux2014 and manylinux_2_28 wheels both run.
PLATFORMS = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}


def pyc_tag(python_version: str) -> str:
    """The cache tag of ``.pyc`` names for a CPython version: ``"3.12"`` -> ``"cpython-312"``."""
    major, minor = python_version.split(".")[:2]
    return f"cpython-{major}{minor}"


def install_for(target: Path, requirements: list[str], *, python_version: str, arch: str) -> None:
    """Install ``requirements`` into ``target`` as the given Lambda runtime needs them."""
    platforms = [arg for tag in PLATFORMS[arch] for arg in ("--platform", tag)]
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--target", str(target), *platforms, "--implementation", "cp",
            "--python-version", python_version, "--only-binary=:all:", "--no-compile",
            "--upgrade", *requirements,
        ],
        check=True,
    )  # fmt: skip


def compile_for(folder: Path, interpreter: str) -> None:
    """Compile every module under ``folder`` with the target's interpreter, unchecked-hash."""
    subprocess.run(
        [interpreter, "-m", "compileall", "-q", "-j", "0",
         "--invalidation-mode", "unchecked-hash", str(folder)],
        check=True,
    )  # fmt: skip


def zip_folder(folder: Path, archive: Path) -> None:
    """Zip ``folder``'s contents (sorted, so the same input gives the same archive)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder))


def find_interpreter(python_version: str) -> str:
    """``pythonX.Y`` on PATH that really runs, or a pyenv install of it."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{python_version}")]
    candidates += sorted(
        (str(p) for p in pyenv.glob(f"versions/{python_version}.*/bin/python{python_version}")),
        reverse=True,
    )
    for candidate in candidates:
        probe = [candidate, "-c", "pass"] if candidate else None
        if probe and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return candidate
    raise SystemExit(
        f"no Python {python_version} on this machine: install it (pyenv, your distribution) or "
        "pass --interpreter, so the bytecode is compiled for the runtime that will run it"
    )


def build(
    folder: Path,
    requirements: list[str],
    *,
    python_version: str,
    arch: str,
    interpreter: str | None = None,
    handler: Path | None = None,
    layer: bool = False,
    bytecode: bool = True,
) -> Path:
    """Fill ``folder`` with a deployment package; returns the folder where modules go."""
    if folder.exists():
        shutil.rmtree(folder)
    packages = folder / "python" if layer else folder
    install_for(packages, requirements, python_version=python_version, arch=arch)
    if handler is not None:
        shutil.copy2(handler, packages / handler.name)
    if bytecode:
        compile_for(packages, interpreter or find_interpreter(python_version))
    return packages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the runtime's version, e.g. 3.12")
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="x86_64")
    parser.add_argument("--requirement", action="append", required=True, help="pip argument")
    parser.add_argument("--handler", type=Path, help="the handler module to add")
    parser.add_argument("--layer", action="store_true", help="a layer: modules under python/")
    parser.add_argument("--interpreter", help="the target Python (default: pythonX.Y)")
    parser.add_argument("--folder", type=Path, default=Path("build/package"))
    parser.add_argument("--zip", type=Path, help="also write this zip")
    args = parser.parse_args(argv)
    build(
        args.folder,
        args.requirement,
        python_version=args.python,
        arch=args.arch,
        interpreter=args.interpreter,
        handler=args.handler,
        layer=args.layer,
    )
    if args.zip is not None:
        zip_folder(args.folder, args.zip)
        print(f"{args.zip}: {args.zip.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
