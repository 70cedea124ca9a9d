"""Typed filter attributes from a user model: the field's type picks the DynamoDB descriptor.

``typed(Invoice).new.Amount == 5`` compiles to ``{"Amount": {"N": ["5"]}}`` because
``Invoice.Amount`` is an ``int``; a misspelt field is an error when the filter is built, not a
filter that silently never matches. Models are pydantic models, dataclasses or TypedDicts;
pydantic is never imported here (a model is recognised by its ``model_fields``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import types
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import typing_extensions

from .._errors import UsageError
from ._attribute import Attribute

__all__ = ["TypeInfo", "TypedAttributes", "typed"]

_SCALARS: tuple[tuple[type, str], ...] = (
    (bool, "BOOL"),
    (str, "S"),
    (int, "N"),
    (float, "N"),
    (Decimal, "N"),
    (bytes, "B"),
    (bytearray, "B"),
    (_dt.datetime, "S"),
    (_dt.date, "S"),
    (uuid.UUID, "S"),
)
_SET_OF = {"S": "SS", "N": "NS", "B": "BS"}


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """What the DSL knows about one attribute: its descriptor and, for maps, its members."""

    descriptor: str | None
    members: Mapping[str, TypeInfo] | None = None  # for models nested as M
    names: Mapping[str, str] | None = None  # Python field name -> DynamoDB attribute name
    model: str = ""

    def child(self, name: str, *, where: str) -> TypeInfo:
        """The member ``name`` (a Python field name or the DynamoDB attribute name)."""
        if self.members is None:
            return TypeInfo(None)
        key = (self.names or {}).get(name, name)
        if key not in self.members:
            known = ", ".join(sorted(self.members))
            raise AttributeError(
                f"{self.model} has no attribute {name!r} ({where}); known: {known}"
            )
        return self.members[key]

    def attribute_name(self, name: str) -> str:
        return (self.names or {}).get(name, name)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp)
        or typing_extensions.is_typeddict(tp)
        or hasattr(tp, "model_fields")
    )


def _fields(model: type) -> tuple[dict[str, Any], dict[str, str]]:
    """(DynamoDB name -> annotation, Python name -> DynamoDB name) of a model."""
    model_fields = getattr(model, "model_fields", None)
    if isinstance(model_fields, Mapping):  # pydantic v2, without importing pydantic
        hints, names = {}, {}
        for py_name, info in model_fields.items():
            alias = getattr(info, "validation_alias", None) or getattr(info, "alias", None)
            name = alias if isinstance(alias, str) else py_name
            hints[name] = info.annotation
            names[py_name] = name
        return hints, names
    try:
        hints = typing.get_type_hints(model)
    except Exception as exc:  # NameError from an unresolvable forward reference
        raise UsageError(f"cannot read the annotations of {model.__name__}: {exc}") from exc
    if dataclasses.is_dataclass(model):
        hints = {f.name: hints.get(f.name, Any) for f in dataclasses.fields(model)}
    return hints, {}


def _info(tp: Any, depth: int = 0) -> TypeInfo:
    origin = typing_extensions.get_origin(tp)
    args = typing_extensions.get_args(tp)
    if origin is typing_extensions.Annotated:
        return _info(args[0], depth)
    if origin is typing.Union or origin is types.UnionType:
        rest = [a for a in args if a is not type(None)]
        infos = {_info(a, depth) for a in rest} if len(rest) > 0 else set()
        return infos.pop() if len(infos) == 1 else TypeInfo(None)
    if origin is typing_extensions.Literal:
        kinds = {_info(type(a), depth).descriptor for a in args}
        return TypeInfo(kinds.pop() if len(kinds) == 1 else None)
    if origin in (set, frozenset, typing.AbstractSet):
        inner = _info(args[0], depth).descriptor if args else None
        return TypeInfo(_SET_OF.get(inner or ""))
    if origin in (list, tuple) or (
        isinstance(origin, type) and issubclass(origin, typing.Sequence)
    ):
        return TypeInfo("L")
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return TypeInfo("M")
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            values = {_info(type(m.value), depth).descriptor for m in tp}
            return TypeInfo(values.pop() if len(values) == 1 else None)
        for py, descriptor in _SCALARS:
            if issubclass(tp, py):
                return TypeInfo(descriptor)
        if tp in (list, tuple):
            return TypeInfo("L")
        if tp in (set, frozenset):
            return TypeInfo(None)
        if _is_model(tp) and depth < 32:
            return _model_info(tp, depth + 1)
    return TypeInfo(None)


def _model_info(model: type, depth: int = 0) -> TypeInfo:
    hints, names = _fields(model)
    members = {name: _info(tp, depth) for name, tp in hints.items()}
    return TypeInfo("M", members, names, model.__name__)


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
    if not _is_model(model):
        raise UsageError(
            f"typed() takes a pydantic model, dataclass or TypedDict class, got {model!r}"
        )
    return TypedAttributes(model, _model_info(model))
