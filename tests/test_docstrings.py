"""Every docstring example in the package runs (house style: one runnable example per public
object, executed by CI)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ddbstream

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(ddbstream.__path__, prefix="ddbstream.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name: str) -> None:
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module_name):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} docstring example(s) failed in {module_name}"


def test_the_examples_are_found() -> None:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = sum(
        len(test.examples)
        for name in MODULES
        for test in finder.find(importlib.import_module(name), name)
    )
    assert found > 100


def test_the_public_api_documents_itself_with_examples() -> None:
    undocumented = [
        name
        for name in ddbstream.__all__
        if isinstance(getattr(ddbstream, name), type)
        and not (getattr(ddbstream, name).__doc__ or "").strip()
    ]
    assert undocumented == []
