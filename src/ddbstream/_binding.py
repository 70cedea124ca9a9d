"""Bind a decoded :class:`~ddbstream.Image` to a user model through a cached pydantic TypeAdapter.

Any type pydantic can validate works: a ``BaseModel``, a dataclass or a ``TypedDict``. The adapter
is built once per model (building one costs far more than validating), and pydantic is imported
only when the first typed image is read, so ``import ddbstream`` stays light.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ._errors import ImageValidationError, UsageError
from ._lazy import require

__all__ = ["bind_image", "type_adapter"]


@functools.lru_cache(maxsize=256)
def type_adapter(model: Any) -> Any:
    """The cached ``pydantic.TypeAdapter`` for ``model``."""
    pydantic = require("pydantic", purpose="typed models (model=...)")
    try:
        return pydantic.TypeAdapter(model)
    except pydantic.PydanticUserError as exc:
        raise UsageError(f"cannot bind images to {model!r}: {exc}") from exc


def bind_image(model: Any, image: Mapping[str, Any]) -> Any:
    """Validate a decoded image against ``model``.

    Raises:
        ImageValidationError: naming the record, the image and the first invalid attribute;
            ``__cause__`` is the pydantic ``ValidationError``.
        DecodeError: an attribute of the image breaks DynamoDB's rules.
    """
    validation_error = require("pydantic", purpose="typed models (model=...)").ValidationError
    values = image.to_dict() if hasattr(image, "to_dict") else dict(image)
    try:
        return type_adapter(model).validate_python(values)
    except validation_error as exc:
        first = exc.errors()[0]
        name = getattr(image, "_name", "Image")
        loc = tuple(p for p in first.get("loc", ()) if isinstance(p, (str, int)))
        raise ImageValidationError(
            f"{name} does not validate as {getattr(model, '__name__', model)!s}: "
            f"{first.get('msg', 'invalid')} ({exc.error_count()} error(s))",
            path=(name, *loc),
            event_id=getattr(image, "_event_id", None),
            sequence_number=getattr(image, "_sequence_number", None),
        ) from exc
