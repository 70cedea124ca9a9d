"""A griffe extension for the API reference: our docstrings title their doctest section
``Example:`` (singular), which griffe's Google parser reads as an admonition (so ``>>>`` lines
would render as nested quotes); this renames the title to ``Examples:``, the section griffe
renders as code. Loaded by mkdocs.yml (``extensions:`` of the mkdocstrings Python handler)."""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)


class DoctestExamples(griffe.Extension):
    """Read an ``Example:`` section of a docstring as an ``Examples:`` section."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
