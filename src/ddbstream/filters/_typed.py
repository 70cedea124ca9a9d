"""Typed filter attributes from a user model: the field's type picks the DynamoDB descriptor.

``typed(Invoice).new.Amount == 5`` compiles to ``{"Amount": {"N": ["5"]}}`` because
``Invoice.Amount`` is an ``int``; a misspelt field is an error when the filter is built, not a
filter that silently never matches. Models are pydantic models, dataclasses or TypedDicts;
pydantic is never imported here (a model is recognised by its ``model_fields``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import UsageError
from ._attribute import Attribute
from ._model_info import TypeInfo, is_model, model_info

__all__ = ["TypedAttributes", "typed"]


class _Section:
    """The attributes of one image (or the keys), as typed by the model."""

    __slots__ = ("_info", "_label", "_section")

    def __init__(self, section: str, info: TypeInfo, label: str) -> None:
        self._section = section
        self._info = info
        self._label = label

    def __getattr__(self, name: str) -> Attribute:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Attribute:
        info = self._info.child(name, where=self._label)
        if self._section == "Keys" and info.descriptor not in ("S", "N", "B", None):
            raise AttributeError(
                f"{self._info.model}.{name} is {info.descriptor}; key attributes are S, N or B"
            )
        text = f"{self._label}.{name}" if name.isidentifier() else f"{self._label}[{name!r}]"
        return Attribute(
            self._section,
            (self._info.attribute_name(name),),
            descriptor=info.descriptor,
            type_info=info if info.members is not None else None,
            text=text,
        )

    def __dir__(self) -> list[str]:
        return sorted(self._info.members or ())

    def __repr__(self) -> str:
        return self._label


@dataclass(frozen=True, slots=True)
class TypedAttributes:
    """Typed attribute builders for one model: ``.keys``, ``.new`` and ``.old``."""

    model: type
    info: TypeInfo

    @property
    def keys(self) -> Any:
        """Key attributes (``dynamodb.Keys``), typed by the model."""
        return _Section("Keys", self.info, f"typed({self.model.__name__}).keys")

    @property
    def new(self) -> Any:
        """Attributes of ``dynamodb.NewImage``, typed by the model."""
        return _Section("NewImage", self.info, f"typed({self.model.__name__}).new")

    @property
    def old(self) -> Any:
        """Attributes of ``dynamodb.OldImage``, typed by the model."""
        return _Section("OldImage", self.info, f"typed({self.model.__name__}).old")

    def __repr__(self) -> str:
        return f"typed({self.model.__name__})"


def typed(model: type) -> TypedAttributes:
    """Typed attribute builders for a pydantic model, dataclass or TypedDict.

    Each field's annotation picks the descriptor (``str`` -> S, ``int``/``float``/``Decimal``
    -> N, ``bool`` -> BOOL, ``bytes`` -> B, nested models -> M); an unknown attribute name, or
    an operand of the wrong type, is an error when the filter is built.

    Raises:
        UsageError: ``model`` is not a pydantic model, dataclass or TypedDict.

    Example:
        >>> from dataclasses import dataclass
        >>> from ddbstream.filters import typed
        >>> @dataclass
        ... class Invoice:
        ...     Amount: int
        ...     Status: str
        >>> attrs = typed(Invoice)
        >>> (attrs.new.Amount == 5).to_patterns()
        [{'dynamodb': {'NewImage': {'Amount': {'N': ['5']}}}}]
    """
    if not is_model(model):
        raise UsageError(
            f"typed() takes a pydantic model, dataclass or TypedDict class, got {model!r}"
        )
    return TypedAttributes(model, model_info(model))
