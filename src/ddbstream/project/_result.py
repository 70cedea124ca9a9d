"""The outcome of projecting one batch, and the partial batch response it implies."""

from __future__ import annotations

from dataclasses import dataclass

from .._apply import AggregateResult

__all__ = ["ProjectionResult"]


@dataclass(frozen=True, slots=True)
class ProjectionResult(AggregateResult):
    """What happened to each record of a projected batch; nothing is lost silently.

    The fields are :class:`~ddbstream.aggregate.AggregateResult`'s (one result type for both
    users of the exactly-once core): ``processed``, ``failed``, ``not_attempted`` (records of
    an item after one of its records failed, or past the deadline), ``errors``, ``writes``
    (target writes that landed), ``duplicates`` (records an earlier delivery had applied, or
    older than what the target holds), ``filtered`` (records that touch no target item),
    ``deadline_reached``, ``duration``, ``unapplied`` and ``failures``.

    Example:
        >>> ProjectionResult(processed=("1",), failed=("2",), unapplied=("2",)).response()
        {'batchItemFailures': [{'itemIdentifier': '2'}]}
    """
