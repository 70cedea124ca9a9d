"""Bisect a failing batch, retry, and keep what cannot be processed in a JSON-lines file.

With BisectBatchOnFunctionError the batch is halved on each error (without using up retries)
until the poison record stands alone; after MaximumRetryAttempts it goes to the on-failure
destination with the exact record Lambda sends to SQS or SNS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ddbstream.runner import EventSourceMapping, run


def handler(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        if "amount" not in record["dynamodb"].get("NewImage", {"amount": 0}):
            raise ValueError(f"order {record['dynamodb']['Keys']['pk']['S']} has no amount")


def main(endpoint_url: str, table: str, failed: Path) -> list[dict[str, Any]]:
    stats = run(
        handler,
        table_name=table,
        endpoint_url=endpoint_url,
        mapping=EventSourceMapping(bisect_batch_on_function_error=True, maximum_retry_attempts=1),
        on_failure=failed,  # or any callable receiving the record
        until_idle=True,
    )
    print(f"handled {stats.records_succeeded}, sent {stats.records_failed} to {failed}")
    return [json.loads(line) for line in failed.read_text().splitlines()]
