"""Records the handler could not process go to an S3-shaped folder; once the handler is fixed,
``redrive`` runs them through it again, from their saved payload.

``python examples/runner/redrive.py http://localhost:8000 Orders failed/`` (start the server
with ``ddbstream local start``; the table needs a stream).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ddbstream.runner import EventSourceMapping, FailureFolder, RedriveReport, redrive, run

#: Order -> amount: setting a key twice changes nothing, so redelivered records are harmless.
AMOUNTS: dict[str, int] = {}


def strict(event: dict[str, Any], context: Any) -> None:
    """The deployed handler: an order without an amount makes it raise."""
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        AMOUNTS[image["pk"]["S"]] = int(image["amount"]["N"])


def fixed(event: dict[str, Any], context: Any) -> None:
    """The fix: an order without an amount counts as 0."""
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        AMOUNTS[image["pk"]["S"]] = int(image.get("amount", {"N": "0"})["N"])


def main(endpoint_url: str, table: str, failed: Path) -> RedriveReport:
    run(
        strict,
        table_name=table,
        endpoint_url=endpoint_url,
        # bisect until the bad record is alone, retry it once, then give it up
        mapping=EventSourceMapping(bisect_batch_on_function_error=True, maximum_retry_attempts=1),
        on_failure=FailureFolder(failed),  # AWS's S3 shape: the records travel along
        until_idle=True,
    )
    report = redrive(fixed, failed, endpoint_url=endpoint_url)
    for result in report.results:
        print(result)
    print(f"{report.reprocessed} reprocessed, {report.failed_again} failed again")
    return report


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
