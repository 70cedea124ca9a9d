"""Code shown in the docs that is a copy of a tested file under ``examples/``.

A fenced block whose title names a file (```` ```python {title="examples/routing/orders.py"} ````)
shows that file verbatim; ``section="name"`` shows only the lines between the file's
``# --8<-- [start:name]`` and ``# --8<-- [end:name]`` markers. The page shows real code on
GitHub, in an editor and on the site, and ``tests/test_doc_sources.py`` fails when the page and
the file differ (``python tests/_doc_sources.py`` rewrites the pages from the files).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

_FENCE = re.compile(
    r'^(?P<fence>```+)(?P<lang>[\w-]+) \{title="(?P<title>examples/[^"]+)"'
    r'(?: section="(?P<section>[\w-]+)")?\}\n(?P<body>.*?)^(?P=fence)[ \t]*$',
    re.M | re.S,
)
_MARKER = re.compile(r"^\s*# -{2}8<-{2} \[(start|end):[\w-]+\]\s*$")


@dataclass(frozen=True)
class Shown:
    """One block of a page that shows a file of ``examples/``."""

    page: Path
    title: str
    section: str | None
    body: str
    span: tuple[int, int]

    def expected(self) -> str:
        """What the block must hold: the file, or its section, without snippet markers."""
        text = (ROOT / self.title).read_text(encoding="utf-8")
        if self.section is not None:
            start = f"# --8<-- [start:{self.section}]\n"
            end = f"# --8<-- [end:{self.section}]"
            if start not in text or end not in text:
                raise AssertionError(f"{self.title} has no section {self.section!r}")
            text = text.split(start, 1)[1].split(end, 1)[0]
        lines = [line for line in text.splitlines(keepends=True) if not _MARKER.match(line)]
        body = "".join(lines)
        return body if body.endswith("\n") else body + "\n"


def shown(page: Path) -> Iterator[Shown]:
    """The blocks of ``page`` that show a file of ``examples/``."""
    text = page.read_text(encoding="utf-8")
    for match in _FENCE.finditer(text):
        yield Shown(page, match["title"], match["section"], match["body"], match.span("body"))


def rewrite(page: Path) -> bool:
    """Rewrite the blocks of ``page`` from their files; True when something changed."""
    text = page.read_text(encoding="utf-8")
    new = text
    for block in sorted(shown(page), key=lambda b: b.span, reverse=True):
        start, end = block.span
        new = new[:start] + block.expected() + new[end:]
    if new != text:
        page.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = [str(page.relative_to(ROOT)) for page in PAGES if rewrite(page)]
    print("\n".join(changed) or "every page matches its files")
    sys.exit(0)
