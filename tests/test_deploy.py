"""docs/deploy.md: its templates are the checked files, and its packaging recipe
(``examples/deploy/build_package.py``) gives bytecode for the target Python that the target
loads.

``make deploy-check`` goes further (SAM translated to CloudFormation, ``cdk synth``, cfn-lint on
both); it needs aws-cdk-lib and the CDK CLI, so it is not run here.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "examples" / "deploy"
PAGE = (ROOT / "docs" / "deploy.md").read_text()

sys.path.insert(0, str(DEPLOY))
import build_package  # noqa: E402

sys.path.remove(str(DEPLOY))


def test_the_page_shows_the_checked_sam_template() -> None:
    template = (DEPLOY / "sam" / "template.yaml").read_text()
    assert f"```yaml\n{template}```" in PAGE


def test_the_page_shows_the_checked_cdk_app() -> None:
    app = (DEPLOY / "cdk" / "app.py").read_text()
    assert f'```python {{test="skip"}}\n{app}```' in PAGE


def test_the_sam_template_passes_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run(
        [str(cfn_lint), str(DEPLOY / "sam" / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("version", "tag"), [("3.12", "cpython-312"), ("3.13", "cpython-313"), ("3.9", "cpython-39")]
)
def test_pyc_tag(version: str, tag: str) -> None:
    assert build_package.pyc_tag(version) == tag


def _pyc_flags(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[4:8], "little")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """ddbstream (from this checkout) and a handler, as a Python 3.13 x86_64 function."""
    work = tmp_path_factory.mktemp("deploy")
    handler = work / "handler.py"
    handler.write_text(
        "from ddbstream import Router\n"
        "router = Router()\n"
        "router.add(None, lambda record: None)\n"
        "def handler(event, context):\n"
        "    return router.handle(event, context)\n"
    )
    interpreter = build_package.find_interpreter("3.13")
    folder = work / "function"
    build_package.build(
        folder,
        [str(ROOT)],
        python_version="3.13",
        arch="x86_64",
        interpreter=interpreter,
        handler=handler,
    )
    return folder, interpreter


def test_the_bytecode_is_the_targets_and_unchecked(package: tuple[Path, str]) -> None:
    folder, _ = package
    pycs = list(folder.rglob("*.pyc"))
    sources = [p for p in folder.rglob("*.py") if "dist-info" not in str(p)]
    assert pycs
    assert {p.name.split(".")[-2] for p in pycs} == {"cpython-313"}
    assert len(pycs) == len(sources)  # every module, the handler too
    assert {_pyc_flags(p) for p in pycs} == {0b01}  # hash-based, source not checked
    assert list(folder.glob("ddbstream-*.dist-info"))  # __version__ reads it


def test_the_target_python_runs_the_handler_from_bytecode(
    package: tuple[Path, str], tmp_path: Path
) -> None:
    built, interpreter = package
    folder = tmp_path / "function"
    shutil.copytree(built, folder)
    # The sources are not even read: an unchecked .pyc is loaded as it is.
    (folder / "handler.py").write_text("raise SystemExit('the source was compiled again')\n")
    event = tmp_path / "event.json"
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": {"S": "a"}}, "SequenceNumber": "100", "SizeBytes": 5},
    }
    event.write_text(json.dumps({"Records": [record]}))
    code = (
        "import json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import handler, ddbstream\n"
        "print(json.dumps([handler.handler(json.load(open(sys.argv[2])), None),\n"
        "                  ddbstream.__version__]))\n"
    )
    done = subprocess.run(
        [interpreter, "-I", "-B", "-c", code, str(folder), str(event)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    response, version = json.loads(done.stdout)
    assert response == {"batchItemFailures": []}
    assert version == importlib.metadata.version("ddbstream")


def test_a_layer_puts_the_modules_under_python(tmp_path: Path) -> None:
    folder = tmp_path / "layer"
    packages = build_package.build(
        folder,
        ["typing-extensions"],
        python_version="3.12",
        arch="arm64",
        layer=True,
        bytecode=False,
    )
    assert packages == folder / "python"
    assert (packages / "typing_extensions.py").is_file()
    assert not list(folder.rglob("*.pyc"))
    archive = tmp_path / "layer.zip"
    build_package.zip_folder(folder, archive)
    with zipfile.ZipFile(archive) as layer:
        assert "python/typing_extensions.py" in layer.namelist()
