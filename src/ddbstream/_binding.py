"""Bind a decoded :class:`~ddbstream.Image` to a user model through a cached pydantic TypeAdapter.

Any type pydantic can validate works: a ``BaseModel``, a dataclass or a ``TypedDict``. The adapter
is built once per model (building one costs far more than validating), and pydantic is imported
only when the first typed image is read, so ``import ddbstream`` stays light.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from ._errors import ImageValidationError, UsageError
from ._image import Image
from ._lazy import require
from ._reprs import name_of

__all__ = ["bind_image", "type_adapter"]

T = TypeVar("T")

_PURPOSE = "typed models (model=...)"


@functools.lru_cache(maxsize=256)
def type_adapter(model: Any) -> Any:
    """The cached ``pydantic.TypeAdapter`` for ``model``.

    Raises:
        UsageError: pydantic cannot validate ``model`` (or is not installed).
    """
    pydantic = require("pydantic", purpose=_PURPOSE)
    try:
        return pydantic.TypeAdapter(model)
    except pydantic.PydanticUserError as exc:
        raise UsageError(f"cannot bind images to {model!r}: {exc}") from exc


def bind_image(model: type[T], image: Image) -> T:
    """Validate a decoded image against ``model``.

    Raises:
        ImageValidationError: naming the record, the image and the first invalid attribute;
            ``__cause__`` is the pydantic ``ValidationError``.
        DecodeError: an attribute of the image breaks DynamoDB's rules.
    """
    validation_error = require("pydantic", purpose=_PURPOSE).ValidationError
    values = image.to_dict()
    try:
        value: T = type_adapter(model).validate_python(values)  # type: ignore[arg-type]
    except validation_error as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first.get("loc", ()) if isinstance(p, (str, int)))
        raise ImageValidationError(
            f"{image.name} does not validate as {name_of(model)}: "
            f"{first.get('msg', 'invalid')} ({exc.error_count()} error(s))",
            path=(image.name, *loc),
            event_id=image.event_id,
            sequence_number=image.sequence_number,
        ) from exc
    return value
