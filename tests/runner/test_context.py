"""LambdaContext and RunnerStats."""

from __future__ import annotations

import threading
import time

from ddbstream.runner import LambdaContext, RunnerStats


def test_context_has_lambdas_attributes() -> None:
    ctx = LambdaContext(function_name="orders", timeout=2.0, region="eu-west-1", account_id="123")
    assert ctx.invoked_function_arn == "arn:aws:lambda:eu-west-1:123:function:orders"
    assert ctx.log_group_name == "/aws/lambda/orders"
    assert "[$LATEST]" in ctx.log_stream_name
    assert ctx.function_version == "$LATEST"
    assert ctx.memory_limit_in_mb == 128
    assert ctx.aws_request_id != LambdaContext().aws_request_id
    first = ctx.get_remaining_time_in_millis()
    assert 1900 < first <= 2000
    time.sleep(0.05)
    assert ctx.get_remaining_time_in_millis() < first


def test_stats_add_is_thread_safe() -> None:
    stats = RunnerStats()

    def bump() -> None:
        for _ in range(1000):
            stats.add(records_read=1, invocations=2)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (stats.records_read, stats.invocations) == (4000, 8000)
    assert stats.behind_latest_ms is None
    stats.last_record_time = time.time() - 60
    assert 59_000 <= (stats.behind_latest_ms or 0) <= 61_000
