"""What DynamoDB's validation errors mean for a group's write.

Every request the DynamoDB sink sends (writes and reads alike) goes through ``_aws.call``, so no
raw botocore error escapes: throttling, 5xx, transaction conflicts and lost answers become
:class:`~ddbstream.TransientError` (the core retries them with backoff); a refused value or key
becomes a :class:`GroupRejected` (the records of that group fail alone); a missing table, bad
credentials or a malformed request become a :class:`~ddbstream.UsageError` (nothing can work:
the batch fails loudly).
"""

from __future__ import annotations

import re

from .._aws import AwsError
from ._sink import GroupRejected

__all__ = ["rejection"]

# Messages of validation errors caused by the value written (not by the request's shape).
_VALUE = re.compile(
    r"empty string|size limit|exceeded the maximum size|overflow|underflow|significant digits|"
    r"magnitude|precision",
    re.I,
)
_ITEM_SIZE = re.compile(r"item size", re.I)


def rejection(error: AwsError) -> GroupRejected | None:
    """The GroupRejected a validation error means for the group written, or None when the
    request itself is wrong."""
    if error.kind != "validation":
        return None
    message = error.message
    if _ITEM_SIZE.search(message):
        return GroupRejected(
            f"DynamoDB refused the group's item: {message} (a group touched by this many source "
            "items a day needs Ledger(...), which keeps watermarks out of the group item)"
        )
    if _VALUE.search(message):
        return GroupRejected(f"DynamoDB refused the group's value: {message}")
    return None
