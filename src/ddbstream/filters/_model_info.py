"""What a user model says about its attributes: each field's DynamoDB type descriptor.

:func:`model_info` reads a pydantic model, a dataclass or a TypedDict (pydantic is never
imported: a model is recognised by its ``model_fields``) into a :class:`TypeInfo` tree. It
knows nothing of filters; :mod:`ddbstream.filters._typed` and
:mod:`ddbstream.filters._attribute` build on it.
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

__all__ = ["TypeInfo", "is_model", "model_info"]

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


def is_model(tp: Any) -> bool:
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
        if is_model(tp) and depth < 32:
            return model_info(tp, depth + 1)
    return TypeInfo(None)


def model_info(model: type, depth: int = 0) -> TypeInfo:
    hints, names = _fields(model)
    members = {name: _info(tp, depth) for name, tp in hints.items()}
    return TypeInfo("M", members, names, model.__name__)
