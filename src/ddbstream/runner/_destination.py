"""The on-failure destination: AWS's exact record for a discarded batch, sent to a callable or
appended to a JSON-lines file."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

__all__ = ["OnFailure", "failure_record", "make_destination"]

log = logging.getLogger("ddbstream.runner")

#: A callable receiving each on-failure record, or a JSON-lines file path.
OnFailure = Union[Callable[[dict[str, Any]], object], str, "os.PathLike[str]", None]


def _arrival(record: Mapping[str, Any]) -> str | None:
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if not isinstance(value, (int, float)):
        return None
    moment = _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_record(
    records: Sequence[Mapping[str, Any]],
    *,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    function_error: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The record Lambda sends to an SQS/SNS on-failure destination for a discarded batch.

    Args:
        records: the discarded records, in order (Lambda-shaped).
        condition: ``"RetryAttemptsExhausted"`` or ``"RecordAgeExceeded"``.
        invoke_count: invocations that included these records.
        function_error: ``"Unhandled"`` for an exception, None for ReportBatchItemFailures.
    """
    now = _dt.datetime.now(_dt.timezone.utc)
    return {
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": function_error,
        },
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _arrival(records[0]),
            "approximateArrivalOfLastRecord": _arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def make_destination(target: OnFailure) -> Callable[[dict[str, Any]], None]:
    """Turn a callable, a JSON-lines path or None (log at ERROR) into one send function."""
    if target is None:

        def send_log(record: dict[str, Any]) -> None:
            log.error("discarded batch (no on-failure destination): %s", json.dumps(record))

        return send_log
    if callable(target):
        call = target

        def send_call(record: dict[str, Any]) -> None:
            call(record)

        return send_call
    path = os.fspath(target)
    lock = threading.Lock()

    def send_file(record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(line)

    return send_file
