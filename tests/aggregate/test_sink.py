"""ddbstream.aggregate._sink and _result: backoff bounds, partial batch response shape."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ddbstream.aggregate import AggregateResult, Retry


@given(attempt=st.integers(0, 30), base=st.floats(0, 1), cap=st.floats(0, 5))
def test_backoff_is_full_jitter_capped(attempt: int, base: float, cap: float) -> None:
    retry = Retry(base=base, cap=cap)
    bound = min(cap, base * 2**attempt)
    assert retry.delay(attempt, rng=lambda lo, hi: hi) == bound
    assert retry.delay(attempt, rng=lambda lo, hi: lo) == 0.0
    assert 0.0 <= retry.delay(attempt) <= bound


def test_response_lists_every_unapplied_record_in_batch_order() -> None:
    result = AggregateResult(
        processed=("1",), failed=("3",), not_attempted=("2",), unapplied=("2", "3")
    )
    assert not result.ok
    assert result.response() == {
        "batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]
    }
    assert AggregateResult(processed=("1",)).ok
