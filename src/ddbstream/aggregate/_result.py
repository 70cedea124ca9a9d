"""The outcome of aggregating one batch, and the partial batch response it implies."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from .._errors import DDBStreamError
from .._types import BatchResponse

__all__ = ["AggregateResult"]


@dataclass(frozen=True, slots=True)
class AggregateResult:
    """What happened to each record of a batch; nothing is lost silently.

    The names follow :class:`ddbstream.BatchResult` (``processed``, ``failed``,
    ``not_attempted``, ``deadline_reached``, ``duration``, :meth:`response`), but records are
    given by their item identifiers: an aggregate applies a batch as a whole, by group, so no
    record is "the one that failed" the way a route's record is.

    Attributes:
        processed: identifiers of records whose effect is in the sink (applied now, applied by
            an earlier delivery, or with no effect), in batch order.
        failed: records that could not be applied (bad data, a refused total, exhausted
            retries).
        not_attempted: records left for the next delivery: after an earlier failure of the same
            source item, or at the Lambda deadline.
        errors: the distinct errors behind ``failed`` and ``not_attempted``.
        writes: the writes that landed.
        duplicates: records every effect of which an earlier delivery had applied.
        filtered: records that ``where`` or ``group_by`` left out (no image in any group).
        deadline_reached: the batch stopped before the Lambda deadline.
        duration: seconds spent on the batch.
        unapplied: ``failed`` and ``not_attempted`` together, in batch order: what the partial
            batch response reports.
        failures: each failed record's identifier with the error that failed it.

    Example:
        >>> AggregateResult(processed=("1",), failed=("2",), unapplied=("2",)).response()
        {'batchItemFailures': [{'itemIdentifier': '2'}]}
    """

    processed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    not_attempted: tuple[str, ...] = ()
    errors: tuple[DDBStreamError, ...] = ()
    writes: int = 0
    duplicates: int = 0
    filtered: int = 0
    deadline_reached: bool = False
    duration: float = 0.0
    unapplied: tuple[str, ...] = ()
    failures: tuple[tuple[str, DDBStreamError], ...] = ()

    @property
    def ok(self) -> bool:
        """True when every record's effect is in the sink."""
        return not self.failed and not self.not_attempted

    @property
    def transactions(self) -> int:
        """Deprecated: :attr:`writes` (not every write is a transaction any more)."""
        warnings.warn(
            "AggregateResult.transactions is deprecated; use AggregateResult.writes",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.writes

    def response(self) -> BatchResponse:
        """The ReportBatchItemFailures response: every record not applied, in batch order.

        Lambda checkpoints at the lowest one and redelivers from there; records after it that
        were applied are skipped by their watermarks on redelivery.
        """
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.unapplied]}
