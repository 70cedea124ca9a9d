"""The record a filter reads: a Lambda stream record (a mapping), or a ``StreamRecord``'s
``lambda_record``, the same record in Lambda's JSON shape. One home for that coercion and for
the names and view types filters reason about."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import EventName, StreamRecord, StreamViewType
from .._errors import UsageError

__all__ = ["EVENT_NAMES", "STREAM_RECORD", "VIEW_TYPES", "lambda_mapping"]

#: ``eventName`` values, in order: INSERT, MODIFY, REMOVE.
EVENT_NAMES: tuple[str, ...] = tuple(name.value for name in EventName)
#: ``StreamViewType`` values.
VIEW_TYPES: tuple[str, ...] = tuple(view.value for view in StreamViewType)
#: The class matchers test for first (``record.__class__ is STREAM_RECORD``).
STREAM_RECORD = StreamRecord


def lambda_mapping(record: object) -> Mapping[str, Any]:
    """The Lambda-shape mapping a filter matches: the record itself, or a StreamRecord's.

    Raises:
        UsageError: ``record`` is neither a mapping nor a StreamRecord.
    """
    if isinstance(record, Mapping):
        return record
    inner = getattr(record, "lambda_record", None)  # a StreamRecord, or anything shaped so
    if isinstance(inner, Mapping):
        return inner
    raise UsageError(
        "a filter matches a Lambda stream record (a dict) or a StreamRecord, "
        f"not {type(record).__name__}"
    )
