"""Code the docs show from ``examples/`` is the tested file, verbatim (see ``_doc_sources``)."""

from __future__ import annotations

import pytest

from _doc_sources import PAGES, ROOT, Shown, shown

BLOCKS = [block for page in PAGES for block in shown(page)]


def test_pages_show_files_rather_than_include_them() -> None:
    assert len(BLOCKS) >= 20
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert '--8<-- "' not in text, f"{page.relative_to(ROOT)} still includes a file"


@pytest.mark.parametrize(
    "block",
    BLOCKS,
    ids=lambda b: f"{b.page.relative_to(ROOT)}:{b.title}" + (f":{b.section}" if b.section else ""),
)
def test_block_is_the_file(block: Shown) -> None:
    assert block.body == block.expected(), (
        f"{block.page.relative_to(ROOT)} shows an old {block.title}: "
        "run `python tests/_doc_sources.py` to rewrite it"
    )


def test_a_changed_file_is_caught() -> None:
    block = BLOCKS[0]
    stale = Shown(block.page, block.title, block.section, block.body + "# edited\n", block.span)
    assert stale.body != stale.expected()
