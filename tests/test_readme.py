"""The handler of the README and of the docs' home page is the tested example file, verbatim (so
mypy --strict and pyright check what those pages show)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_handler_is_the_tested_example() -> None:
    code = (ROOT / "examples" / "readme" / "handler.py").read_text()
    for page in (ROOT / "README.md", ROOT / "docs" / "index.md"):
        assert f'```python {{title="handler.py"}}\n{code}```' in page.read_text(), page.name
    assert len(code.strip().splitlines()) <= 25
