"""The settings of a run, as frozen values: the event source mapping, the function, the loop.

:class:`EventSourceMapping` holds what ``CreateEventSourceMapping`` takes for a DynamoDB stream.
Construction validates every setting against the Lambda API's limits, so a mapping the runner
accepts is one AWS would accept too (and the other way round). :class:`LocalFunction` describes
the function the runner invokes (its context and the failure records name it), and
:class:`LoopSettings` what the read loop needs; the :class:`~ddbstream.runner.Runner` builds
them once, so no part of the run reads another part's attributes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any, Literal

from .._errors import LimitExceeded, UsageError

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "EventSourceMapping",
    "LocalFunction",
    "LoopSettings",
    "StartingPosition",
    "lint_mapping",
]

log = logging.getLogger("ddbstream.runner")

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


def lint_mapping(
    mapping: EventSourceMapping, *, stream_view_type: str | None, allow_errors: bool
) -> None:
    """Lint the mapping's filter criteria as ``ddbstream filter lint`` does: log warnings, and
    refuse error findings (a filter AWS rejects or that never matches) unless allowed.

    Raises:
        UsageError: an error finding, naming it and the way out.
    """
    criteria = mapping.filter_criteria
    if criteria is None:
        return
    # filters load only for a mapping that has criteria (the runner never needs them else)
    from ..filters import FilterCriteria, lint

    if not isinstance(criteria, FilterCriteria):
        return  # a matcher of the caller's own: nothing to lint
    findings = lint(criteria, stream_view_type=stream_view_type)
    errors = [f for f in findings if f.severity == "error"]
    if errors and not allow_errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UsageError(
            f"filter criteria: {' '.join(str(errors[0]).split())}{more}; fix the pattern, or "
            "pass allow_lint_errors=True (--allow-lint-errors) to run it anyway"
        )
    for finding in findings:
        log.warning("filter criteria: %s", finding)


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


@dataclasses.dataclass(frozen=True, slots=True)
class LocalFunction:
    """The function the runner invokes: what its context says and failure records name.

    Example:
        >>> LocalFunction(name="orders", region="eu-west-1", account_id="123456789012").arn
        'arn:aws:lambda:eu-west-1:123456789012:function:orders'
    """

    name: str = "ddbstream-local"
    timeout: float = 3.0
    region: str = "us-east-1"
    account_id: str = "000000000000"

    @property
    def arn(self) -> str:
        """``arn:aws:lambda:<region>:<account>:function:<name>``."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"


@dataclasses.dataclass(frozen=True, slots=True)
class LoopSettings:
    """What the read loop needs: the mapping, how often to poll and to look for new shards,
    and the ``awsRegion`` to put on records (None: what the stream reports)."""

    mapping: EventSourceMapping = dataclasses.field(default_factory=EventSourceMapping)
    poll_interval: float = 0.25
    discovery_interval: float = 10.0
    aws_region: str | None = None
