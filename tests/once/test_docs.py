"""The welcome-email tutorial shows the example's handler exactly as it is in ``examples/``,
where the contract tests run it."""

from __future__ import annotations

from pathlib import Path

from pytest_examples import find_examples

ROOT = Path(__file__).resolve().parents[2]


def test_the_tutorial_shows_the_example_handler() -> None:
    page = ROOT / "docs" / "tutorials" / "welcome-email.md"
    shown = [
        e.source for e in find_examples(page) if e.prefix_settings().get("title") == "handler.py"
    ]
    assert shown == [(ROOT / "examples" / "welcome_email" / "handler.py").read_text()]
