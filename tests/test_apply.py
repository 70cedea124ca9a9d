"""ddbstream._apply: the partial batch response of an exactly-once batch lists every unapplied
record."""

from __future__ import annotations

import pytest

from ddbstream.aggregate import AggregateResult


def test_response_lists_every_unapplied_record_in_batch_order() -> None:
    result = AggregateResult(
        processed=("1", "4"), failed=("2",), not_attempted=("3",), unapplied=("2", "3")
    )
    assert not result.ok
    assert result.response() == {
        "batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]
    }
    assert AggregateResult(processed=("1",)).ok


def test_transactions_is_a_deprecated_name_for_writes() -> None:
    with pytest.warns(DeprecationWarning, match="writes"):
        assert AggregateResult(writes=3).transactions == 3
