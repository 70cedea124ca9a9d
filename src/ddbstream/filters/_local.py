"""The two conditions only Python can evaluate: :class:`Changed` (an attribute differs between
the images) and :class:`Where` (any function of the StreamRecord). Lambda has no operator for
either; they are leaves of the DSL's tree (:mod:`ddbstream.filters._expr`) that make it a
``LocalPredicate``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import EventName
from .._errors import UsageError

__all__ = ["Changed", "Where"]


@dataclass(frozen=True, slots=True)
class Changed:
    """The attribute differs between the old and the new image (local only)."""

    attribute: str

    def __repr__(self) -> str:
        return f"changed({self.attribute!r})"

    def evaluate(self, record: Mapping[str, Any]) -> bool:
        """Whether the attribute changed in this Lambda record (an INSERT changes every
        attribute of its new image, a REMOVE every attribute of its old image)."""
        from .._codec import deserialize  # late: the codec is needed only by changed()

        attribute = self.attribute
        ddb = record.get("dynamodb")
        ddb = ddb if isinstance(ddb, Mapping) else {}
        new, old = ddb.get("NewImage"), ddb.get("OldImage")
        name = record.get("eventName")
        if name == EventName.INSERT and isinstance(new, Mapping):
            return attribute in new
        if name == EventName.REMOVE and isinstance(old, Mapping):
            return attribute in old
        if not isinstance(new, Mapping) or not isinstance(old, Mapping):
            raise UsageError(
                f"changed({attribute!r}) needs both images on a {name}: enable the "
                "NEW_AND_OLD_IMAGES stream view type"
            )
        a, b = new.get(attribute), old.get(attribute)
        if a is None or b is None:
            return (a is None) != (b is None)
        return bool(a != b and deserialize(a) != deserialize(b))


@dataclass(frozen=True, slots=True)
class Where:
    """A function of the StreamRecord (local only)."""

    predicate: Callable[[Any], bool]

    def __repr__(self) -> str:
        name = getattr(self.predicate, "__qualname__", repr(self.predicate))
        return f"where({name})"

    def evaluate(self, record: Mapping[str, Any]) -> bool:
        """The predicate on the record, parsed into a StreamRecord."""
        from .._event import StreamEvent  # late: records are parsed only for where()

        parsed = StreamEvent.from_lambda({"Records": [record]}).records[0]
        return bool(self.predicate(parsed))
