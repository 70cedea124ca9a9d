"""Every fenced Python example of the README and of the docs runs, and prints what the page shows.

Code that appears in a page is written in the page, so GitHub, an editor and the built site all
show it. pytest-examples (pydantic's library for this) finds the blocks, runs them, checks their
printed output and lints them with ruff. The conventions, for whoever writes a page:

* A ```` ```python ```` block runs. The blocks of a page run in page order, each in a fresh
  namespace, inside one temporary folder per page that is the working directory and is on
  ``sys.path``.
* ``#>`` lines under a ``print(...)`` are what it prints; the test compares them
  (``pytest tests/test_docs_examples.py --update-examples`` rewrites them).
* ```` ```python {title="handler.py"} ```` also saves the block as ``handler.py`` in the page's
  folder, so later blocks can ``from handler import handler``; mkdocs shows the title above the
  code. A block titled ``test_*.py`` is a test module: it is run by pytest, in a subprocess.
* ```` ```python {test="skip"} ```` marks a fragment that is not meant to run on its own (a partial
  snippet, code that needs AWS); it is still linted. Shell sessions, YAML, JSON and output use
  their own languages (``console``, ``yaml``, ``json``, ``text``) and are not run.
* A block titled with a path under ``examples/``
  (```` ```python {title="examples/routing/orders.py"} ````) shows that file verbatim: it is
  not run here (``tests/test_examples.py`` runs the file) and ``tests/test_doc_sources.py``
  checks that the page and the file agree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
_FIXTURES_NEEDING_DYNAMODB = (
    "make_table",
    "dynamodb_client",
    "dynamodbstreams_client",
    "dynamodb_endpoint",
    "dynamodb_env",
)


def _settings(example: CodeExample) -> dict[str, str]:
    return example.prefix_settings()


def _shows_a_file(example: CodeExample) -> bool:
    return _settings(example).get("title", "").startswith("examples/")


def page_examples(page: Path) -> list[CodeExample]:
    """The Python blocks of a page that this test runs or lints, in page order."""
    return [example for example in find_examples(page) if not _shows_a_file(example)]


PAGES_WITH_CODE = [page for page in PAGES if page_examples(page)]


@pytest.fixture
def page_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The page's working folder, on ``sys.path``; modules imported from it are forgotten after."""
    folder = tmp_path / "page"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    main = sys.modules["__main__"]
    before = set(sys.modules)
    yield folder
    sys.modules["__main__"] = main  # pytest-examples runs each block as __main__
    for name in set(sys.modules) - before:
        if str(folder) in str(getattr(sys.modules[name], "__file__", None) or ""):
            del sys.modules[name]


def _run_test_module(folder: Path, name: str, endpoint: str | None) -> None:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    if endpoint is not None:
        env["DDBSTREAM_DYNAMODB_ENDPOINT"] = endpoint
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    assert "skipped" not in done.stdout, done.stdout


def test_the_pages_have_examples() -> None:
    names = {page.name for page in PAGES_WITH_CODE}
    assert {"README.md", "getting-started.md", "coming-from-powertools.md", "deploy.md"} <= names


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(
    page: Path, page_folder: Path, eval_example: EvalExample, request: pytest.FixtureRequest
) -> None:
    eval_example.set_config(line_length=100, target_version="py310", ruff_ignore=["E501", "I001"])
    # Also what the page's own modules print (not the tracebacks logging prints).
    eval_example.include_print = lambda _, frame, __: (
        Path(frame.filename).parent
        in {
            page_folder,
            page_folder.parent,
        }
    )
    for example in page_examples(page):
        settings = _settings(example)
        eval_example.lint_ruff(example)
        title = settings.get("title", "")
        if title:
            (page_folder / title).write_text(example.source, encoding="utf-8")
        if settings.get("test") == "skip":
            continue
        if title.startswith("test_"):
            needs_dynamodb = any(name in example.source for name in _FIXTURES_NEEDING_DYNAMODB)
            endpoint = request.getfixturevalue("dynamodb_endpoint") if needs_dynamodb else None
            _run_test_module(page_folder, title, endpoint)
        elif eval_example.update_examples:
            eval_example.run_print_update(example)
        else:
            eval_example.run_print_check(example)
