"""The event source mapping settings the runner honours, with AWS's names, defaults and ranges.

One frozen value, :class:`EventSourceMapping`, holds what ``CreateEventSourceMapping`` takes for a
DynamoDB stream. Construction validates every setting against the Lambda API's limits, so a
mapping the runner accepts is one AWS would accept too (and the other way round).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from .._errors import LimitExceeded, UsageError

__all__ = ["MAX_PAYLOAD_BYTES", "EventSourceMapping", "StartingPosition"]

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]

#: Lambda's synchronous invocation payload limit; batches are cut so the event stays below it.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

_AWS_NAMES = {
    "BatchSize": "batch_size",
    "MaximumBatchingWindowInSeconds": "maximum_batching_window_in_seconds",
    "StartingPosition": "starting_position",
    "FilterCriteria": "filter_criteria",
    "FunctionResponseTypes": "function_response_types",
    "BisectBatchOnFunctionError": "bisect_batch_on_function_error",
    "MaximumRetryAttempts": "maximum_retry_attempts",
    "MaximumRecordAgeInSeconds": "maximum_record_age_in_seconds",
    "ParallelizationFactor": "parallelization_factor",
    "TumblingWindowInSeconds": "tumbling_window_in_seconds",
}


def _int(name: str, value: object, low: int, high: int, *, extra: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name}={value!r} must be an integer")
    if not low <= value <= high:
        raise LimitExceeded(f"{name}={value!r} must be {low}..{high}{extra}")


@dataclasses.dataclass(frozen=True, slots=True)
class EventSourceMapping:
    """The settings of a DynamoDB stream event source mapping, validated against AWS's ranges.

    The field names are the snake_case of ``CreateEventSourceMapping``'s, the defaults are AWS's
    (except ``starting_position``, which AWS requires and which defaults to ``TRIM_HORIZON``
    here, the position AWS recommends). :meth:`from_dict` takes AWS's own spelling.

    Args:
        batch_size: records per invocation, 1..10,000 (AWS default 100).
        maximum_batching_window_in_seconds: seconds to gather a batch, 0..300.
        starting_position: ``"TRIM_HORIZON"`` or ``"LATEST"``.
        filter_criteria: a ``ddbstream.filters.FilterCriteria``, or its JSON dict
            (``{"Filters": [{"Pattern": "..."}]}``); records matching no filter are skipped
            and count as processed.
        function_response_types: ``()`` or ``("ReportBatchItemFailures",)``.
        bisect_batch_on_function_error: split a failing batch in two and retry each half.
        maximum_retry_attempts: -1 (infinite) or 0..10,000.
        maximum_record_age_in_seconds: -1 (infinite) or 60..604,800.
        parallelization_factor: concurrent batches per shard, 1..10 (in order per item).
        tumbling_window_in_seconds: 0 (off) or 1..900.

    Raises:
        LimitExceeded: a setting is outside AWS's range (the message names it).
        UsageError: a setting has the wrong type or an unknown value.

    Example:
        >>> from ddbstream.runner import EventSourceMapping
        >>> EventSourceMapping(batch_size=10, bisect_batch_on_function_error=True)
        EventSourceMapping(batch_size=10, bisect_batch_on_function_error=True)
    """

    batch_size: int = 100
    maximum_batching_window_in_seconds: int = 0
    starting_position: StartingPosition = "TRIM_HORIZON"
    filter_criteria: Any = None
    function_response_types: tuple[str, ...] = ()
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_in_seconds: int = -1
    parallelization_factor: int = 1
    tumbling_window_in_seconds: int = 0

    def __post_init__(self) -> None:
        _int("batch_size", self.batch_size, 1, 10_000)
        _int("maximum_batching_window_in_seconds", self.maximum_batching_window_in_seconds, 0, 300)
        if self.starting_position not in ("TRIM_HORIZON", "LATEST"):
            raise UsageError(
                f"starting_position={self.starting_position!r} must be 'TRIM_HORIZON' or "
                "'LATEST' (AT_TIMESTAMP is not supported for DynamoDB streams)"
            )
        types: Any = self.function_response_types
        if isinstance(types, str) or not isinstance(types, (tuple, list)):
            raise UsageError(f"function_response_types={types!r} must be a tuple of strings")
        if list(types) not in ([], ["ReportBatchItemFailures"]):
            raise UsageError(
                f"function_response_types={types!r} must be () or ('ReportBatchItemFailures',)"
            )
        object.__setattr__(self, "function_response_types", tuple(types))
        for flag in ("bisect_batch_on_function_error",):
            if not isinstance(getattr(self, flag), bool):
                raise UsageError(f"{flag}={getattr(self, flag)!r} must be a bool")
        retries = self.maximum_retry_attempts
        if retries != -1:
            _int("maximum_retry_attempts", retries, 0, 10_000, extra=" or -1 (infinite)")
        age = self.maximum_record_age_in_seconds
        if age != -1:
            _int("maximum_record_age_in_seconds", age, 60, 604_800, extra=" or -1 (infinite)")
        _int("parallelization_factor", self.parallelization_factor, 1, 10)
        _int("tumbling_window_in_seconds", self.tumbling_window_in_seconds, 0, 900)
        if self.tumbling_window_in_seconds and self.parallelization_factor > 1:
            raise UsageError(
                "tumbling_window_in_seconds needs parallelization_factor=1 in ddbstream's runner "
                f"(got {self.parallelization_factor}): window state is kept per shard"
            )
        object.__setattr__(self, "filter_criteria", _coerce_filters(self.filter_criteria))

    @property
    def report_batch_item_failures(self) -> bool:
        """True when ``ReportBatchItemFailures`` is enabled."""
        return bool(self.function_response_types)

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> EventSourceMapping:
        """Build a mapping from ``CreateEventSourceMapping``'s own keys (``BatchSize``...).

        Keys that do not configure the runner (``FunctionName``, ``EventSourceArn``,
        ``Enabled``, ``DestinationConfig``...) are ignored.

        Raises:
            UsageError: ``settings`` is not a mapping.
        """
        if not isinstance(settings, Mapping):
            raise UsageError(f"settings must be a mapping, got {type(settings).__name__}")
        kwargs = {_AWS_NAMES[k]: v for k, v in settings.items() if k in _AWS_NAMES}
        if "function_response_types" in kwargs:
            kwargs["function_response_types"] = tuple(kwargs["function_response_types"] or ())
        return cls(**kwargs)

    def __repr__(self) -> str:
        parts = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value != field.default:
                parts.append(f"{field.name}={value!r}")
        return f"EventSourceMapping({', '.join(parts)})"


def _coerce_filters(value: Any) -> Any:
    """Accept a FilterCriteria object (anything with ``matches``), its JSON dict, or None."""
    if value is None or callable(getattr(value, "matches", None)):
        return value
    if isinstance(value, Mapping):
        from ..filters import FilterCriteria

        return FilterCriteria.from_dict(value)
    raise UsageError(
        f"filter_criteria must be a FilterCriteria or its dict, got {type(value).__name__}"
    )
