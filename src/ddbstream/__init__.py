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

from typing import TYPE_CHECKING

from ._errors import (
    AggregationError,
    DataError,
    DDBStreamError,
    DecodeError,
    EncodeError,
    FilterNotExpressible,
    ImageValidationError,
    InvalidPattern,
    LimitExceeded,
    TransientError,
    UsageError,
)
from ._lazy import attach

if TYPE_CHECKING:
    from ._batch import BatchItemFailure, BatchResponse, BatchResult, FailurePolicy, RecordFailure
    from ._codec import deserialize, deserialize_image, serialize, serialize_image
    from ._event import StreamEvent
    from ._image import Image
    from ._observe import BatchSummary, EmfMetrics, MetricsSink
    from ._records import EventName, StreamRecord, StreamViewType
    from ._routing import Route, Router
    from ._version import __version__
    from ._window import TumblingWindow, Window

__all__ = [
    "AggregationError",
    "BatchItemFailure",
    "BatchResponse",
    "BatchResult",
    "BatchSummary",
    "DDBStreamError",
    "DataError",
    "DecodeError",
    "EmfMetrics",
    "EncodeError",
    "EventName",
    "FailurePolicy",
    "FilterNotExpressible",
    "Image",
    "ImageValidationError",
    "InvalidPattern",
    "LimitExceeded",
    "MetricsSink",
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
    "deserialize": "._codec",
    "deserialize_image": "._codec",
    "serialize": "._codec",
    "serialize_image": "._codec",
    "EventName": "._records",
    "Image": "._image",
    "BatchSummary": "._observe",
    "EmfMetrics": "._observe",
    "MetricsSink": "._observe",
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
    "__version__": "._version",
}
__getattr__, __dir__ = attach(
    __name__,
    _LAZY,
    eager=[
        AggregationError,
        DDBStreamError,
        DataError,
        DecodeError,
        EncodeError,
        FilterNotExpressible,
        ImageValidationError,
        InvalidPattern,
        LimitExceeded,
        TransientError,
        UsageError,
    ],
    submodules=["aggregate", "filters", "runner", "testing"],
)
