"""The README's handler is the tested example file, verbatim (so mypy --strict and pyright check
what the README shows)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_handler_is_the_tested_example() -> None:
    readme = (ROOT / "README.md").read_text()
    code = (ROOT / "examples" / "readme" / "handler.py").read_text()
    assert f'```python {{title="handler.py"}}\n{code}```' in readme
    assert len(code.strip().splitlines()) <= 25
