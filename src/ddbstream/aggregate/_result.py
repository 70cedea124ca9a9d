"""The outcome of aggregating one batch, and the partial batch response it implies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import DDBStreamError

__all__ = ["AggregateResult"]


@dataclass(frozen=True, slots=True)
class AggregateResult:
    """What happened to each record of a batch; nothing is lost silently.

    Attributes:
        processed: item identifiers whose effect is in the sink (applied now, applied by an
            earlier delivery, or with no effect), in batch order.
        failed: identifiers that could not be applied (bad data, overflow, exhausted retries).
        not_attempted: identifiers left alone after a failure that makes going on pointless.
        errors: the errors behind ``failed`` and ``not_attempted``.
        transactions: write requests that committed.
        duplicates: records skipped because an earlier delivery had applied them.
        unapplied: ``failed`` and ``not_attempted`` together, in batch order: what the
            partial batch response reports.

    Example:
        >>> AggregateResult(processed=("1",), failed=("2",), unapplied=("2",)).response()
        {'batchItemFailures': [{'itemIdentifier': '2'}]}
    """

    processed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    not_attempted: tuple[str, ...] = ()
    errors: tuple[DDBStreamError, ...] = ()
    transactions: int = 0
    duplicates: int = 0
    unapplied: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every record's effect is in the sink."""
        return not self.failed and not self.not_attempted

    def response(self) -> dict[str, Any]:
        """The ReportBatchItemFailures response: every record not applied, in batch order.

        Lambda checkpoints at the lowest one and redelivers from there; records after it that
        were applied are skipped by the watermarks on redelivery.
        """
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.unapplied]}
