"""The tutorial pages show their examples inline (tests/test_docs_examples.py runs them); the
files under examples/ that tests/runner/test_tutorials.py runs end to end are the same code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r'^```python \{title="(?P<title>[^"]+)"\}\n(?P<code>.*?)^```$', re.M | re.S)
PAIRS = [
    ("docs/tutorials/user-fanout.md", "handler.py", "examples/user_fanout/handler.py"),
    ("docs/tutorials/product-log.md", "handler.py", "examples/product_log/handler.py"),
    ("docs/tutorials/product-log.md", "api.py", "examples/product_log/api.py"),
]


@pytest.mark.parametrize(("page", "title", "example"), PAIRS)
def test_the_page_shows_the_example_file(page: str, title: str, example: str) -> None:
    blocks = {m["title"]: m["code"] for m in BLOCK.finditer((ROOT / page).read_text())}
    assert blocks[title] == (ROOT / example).read_text()
    assert "--8<--" not in (ROOT / page).read_text()
