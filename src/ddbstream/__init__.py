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
    EffectInProgress,
    EncodeError,
    FilterNotExpressible,
    ImageValidationError,
    InvalidPattern,
    LimitExceeded,
    MissingImageError,
    ProjectionError,
    TransientError,
    UsageError,
)
from ._lazy import attach

if TYPE_CHECKING:
    from ._batch import BatchResult, FailurePolicy, RecordFailure
    from ._codec import deserialize, deserialize_image, serialize, serialize_image
    from ._event import StreamEvent, UnparsedRecord
    from ._image import Image
    from ._observe import BatchSummary, EmfMetrics, MetricsSink, RouteCounts
    from ._records import StreamRecord
    from ._routing import Route, Router
    from ._types import (
        BatchItemFailure,
        BatchResponse,
        Condition,
        EventName,
        LambdaContext,
        StreamViewType,
    )
    from ._version import __version__
    from ._window import TumblingWindow, Window

__all__ = [
    "AggregationError",
    "BatchItemFailure",
    "BatchResponse",
    "BatchResult",
    "BatchSummary",
    "Condition",
    "DDBStreamError",
    "DataError",
    "DecodeError",
    "EffectInProgress",
    "EmfMetrics",
    "EncodeError",
    "EventName",
    "FailurePolicy",
    "FilterNotExpressible",
    "Image",
    "ImageValidationError",
    "InvalidPattern",
    "LambdaContext",
    "LimitExceeded",
    "MetricsSink",
    "MissingImageError",
    "ProjectionError",
    "RecordFailure",
    "Route",
    "RouteCounts",
    "Router",
    "StreamEvent",
    "StreamRecord",
    "StreamViewType",
    "TransientError",
    "TumblingWindow",
    "UnparsedRecord",
    "UsageError",
    "Window",
    "__version__",
    "aggregate",
    "deserialize",
    "deserialize_image",
    "filters",
    "once",
    "project",
    "runner",
    "serialize",
    "serialize_image",
    "testing",
]

_LAZY: dict[str, str] = {
    "BatchItemFailure": "._types",
    "BatchResponse": "._types",
    "Condition": "._types",
    "EventName": "._types",
    "LambdaContext": "._types",
    "StreamViewType": "._types",
    "deserialize": "._codec",
    "deserialize_image": "._codec",
    "serialize": "._codec",
    "serialize_image": "._codec",
    "Image": "._image",
    "StreamRecord": "._records",
    "StreamEvent": "._event",
    "UnparsedRecord": "._event",
    "TumblingWindow": "._window",
    "Window": "._window",
    "BatchResult": "._batch",
    "FailurePolicy": "._batch",
    "RecordFailure": "._batch",
    "Route": "._routing",
    "Router": "._routing",
    "BatchSummary": "._observe",
    "EmfMetrics": "._observe",
    "MetricsSink": "._observe",
    "RouteCounts": "._observe",
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
        EffectInProgress,
        EncodeError,
        FilterNotExpressible,
        ImageValidationError,
        InvalidPattern,
        LimitExceeded,
        MissingImageError,
        ProjectionError,
        TransientError,
        UsageError,
    ],
    submodules=["aggregate", "filters", "once", "project", "runner", "testing"],
)
