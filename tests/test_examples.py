"""Every documented handler snippet runs: ``examples/**/NAME.py`` with ``NAME_event.json`` must
return ``NAME_response.json`` (the house convention for doc snippets)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CASES = sorted(EXAMPLES.rglob("*_event.json"))


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves postponed annotations through it
    spec.loader.exec_module(module)
    return module


def test_there_are_snippet_cases() -> None:
    assert CASES, "no examples/**/*_event.json found"


@pytest.mark.parametrize("event_path", CASES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_snippet_returns_its_documented_response(event_path: Path) -> None:
    stem = event_path.name.removesuffix("_event.json")
    module_path = event_path.with_name(f"{stem}.py")
    response_path = event_path.with_name(f"{stem}_response.json")
    assert module_path.exists(), f"{event_path} has no {module_path.name}"
    assert response_path.exists(), f"{event_path} has no {response_path.name}"
    event = json.loads(event_path.read_text())
    original = json.loads(event_path.read_text())
    response = _load(module_path).handler(event, None)
    assert response == json.loads(response_path.read_text())
    assert event == original, "the handler mutated the caller's event"
