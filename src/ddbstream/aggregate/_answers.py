"""What DynamoDB's answers mean for a write, read through the one botocore boundary (``_aws``).

Every request the DynamoDB sink sends (writes and reads alike) goes through :func:`call`, so no
raw botocore error escapes: throttling, 5xx, transaction conflicts and lost answers become
:class:`~ddbstream.TransientError` (the core retries them with backoff); a refused value or key
becomes a :class:`GroupRejected` (the records of that group fail alone); a missing table, bad
credentials or a malformed request become a :class:`~ddbstream.UsageError` (nothing can work:
the batch fails loudly).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._aws import AwsError, aws_error
from .._errors import TransientError, UsageError
from ._sink import GroupRejected

__all__ = ["call", "from_client", "rejection", "to_client", "transient"]

R = TypeVar("R")

# Messages of validation errors caused by the value written (not by the request's shape).
_VALUE = re.compile(
    r"empty string|size limit|exceeded the maximum size|overflow|underflow|significant digits|"
    r"magnitude|precision",
    re.I,
)
_ITEM_SIZE = re.compile(r"item size", re.I)


def transient(error: AwsError) -> TransientError:
    return TransientError(f"{error.code}: {error.message}")


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


def call(what: str, fn: Callable[..., R], /, **params: Any) -> R:
    """Send one request; AWS errors become :class:`TransientError` (retryable) or
    :class:`UsageError` (anything else).

    Conditional failures and cancellations are for the caller: use :func:`aws_error` on the
    exception when it expects them.
    """
    try:
        return fn(**params)
    except Exception as exc:
        error = aws_error(exc)
        if error is None:
            raise
        if error.retryable:
            raise transient(error) from exc
        raise UsageError(f"{what}: {error.code}: {error.message}") from exc


def from_client(value: Mapping[str, Any]) -> dict[str, Any]:
    """A descriptor as boto3's client returns it (``B`` as bytes) in Lambda's JSON form."""
    ((tag, inner),) = value.items()
    if tag == "B" and isinstance(inner, (bytes, bytearray)):
        return {"B": base64.b64encode(bytes(inner)).decode("ascii")}
    if tag == "BS":
        return {"BS": [base64.b64encode(bytes(b)).decode("ascii") for b in inner]}
    if tag == "M":
        return {"M": {k: from_client(v) for k, v in inner.items()}}
    if tag == "L":
        return {"L": [from_client(v) for v in inner]}
    return {tag: inner}


def to_client(value: Mapping[str, Any]) -> dict[str, Any]:
    """A descriptor in Lambda's JSON form (``B`` as base64 text) as boto3's client takes it."""
    ((tag, inner),) = value.items()
    if tag == "B" and isinstance(inner, str):
        return {"B": base64.b64decode(inner)}
    if tag == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if tag == "M":
        return {"M": {k: to_client(v) for k, v in inner.items()}}
    if tag == "L":
        return {"L": [to_client(v) for v in inner]}
    return {tag: inner}
