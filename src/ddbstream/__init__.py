"""ddbstream: correct, typed, fast DynamoDB Streams processing for AWS Lambda.

Only the standard library is loaded by ``import ddbstream``; everything else (the codec, records,
filters, routing, aggregation, boto3 and pydantic) is imported on first use, because every
millisecond of import is paid by each Lambda cold start.

Example:
    >>> import ddbstream
    >>> ddbstream.deserialize({"N": "12.5"})
    Decimal('12.5')
"""

from __future__ import annotations

import contextlib
import importlib
from typing import TYPE_CHECKING, Any

from ._errors import (
    AggregationError,
    DDBStreamError,
    DecodeError,
    FilterNotExpressible,
    ImageValidationError,
    InvalidPattern,
    LimitExceeded,
    TransientError,
    UsageError,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._batch import BatchItemFailure, BatchResponse, BatchResult, FailurePolicy, RecordFailure
    from ._codec import EncodeError, deserialize, deserialize_image, serialize, serialize_image
    from ._event import StreamEvent
    from ._image import Image
    from ._records import EventName, StreamRecord, StreamViewType
    from ._routing import Route, Router
    from ._window import TumblingWindow, Window

__all__ = [
    "AggregationError",
    "BatchItemFailure",
    "BatchResponse",
    "BatchResult",
    "DDBStreamError",
    "DecodeError",
    "EncodeError",
    "EventName",
    "FailurePolicy",
    "FilterNotExpressible",
    "Image",
    "ImageValidationError",
    "InvalidPattern",
    "LimitExceeded",
    "RecordFailure",
    "Route",
    "Router",
    "StreamEvent",
    "StreamRecord",
    "StreamViewType",
    "TransientError",
    "TumblingWindow",
    "UsageError",
    "Window",
    "__version__",
    "aggregate",
    "deserialize",
    "deserialize_image",
    "filters",
    "runner",
    "serialize",
    "serialize_image",
    "testing",
]

_LAZY: dict[str, str] = {
    "EncodeError": "._codec",
    "deserialize": "._codec",
    "deserialize_image": "._codec",
    "serialize": "._codec",
    "serialize_image": "._codec",
    "EventName": "._records",
    "Image": "._image",
    "StreamEvent": "._event",
    "StreamRecord": "._records",
    "StreamViewType": "._records",
    "BatchItemFailure": "._batch",
    "BatchResponse": "._batch",
    "BatchResult": "._batch",
    "FailurePolicy": "._batch",
    "RecordFailure": "._batch",
    "Route": "._routing",
    "Router": "._routing",
    "TumblingWindow": "._window",
    "Window": "._window",
}
_SUBPACKAGES = frozenset({"aggregate", "filters", "runner", "testing"})

for _value in list(globals().values()):
    if isinstance(_value, type) and issubclass(_value, DDBStreamError):
        _value.__module__ = __name__
del _value


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ddbstream' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    if getattr(value, "__module__", None) != __name__ and isinstance(value, type | type(len)):
        with contextlib.suppress(AttributeError, TypeError):
            value.__module__ = __name__
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
