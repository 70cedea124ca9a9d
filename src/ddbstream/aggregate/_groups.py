"""What a group is: the same rule for every sink, so that a record fails the same way in
tests (``MemorySink``) and in production (``DynamoDBSink``)."""

from __future__ import annotations

from decimal import Decimal

from .._codec import EncodeError, serialize

__all__ = ["check_group"]

_MAX_KEY_BYTES = 2048  # DynamoDB's partition key limit


def _scalar_problem(part: object) -> str | None:
    if isinstance(part, str):
        if not part:
            return "an empty string (DynamoDB keys cannot be empty)"
        if len(part.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
            return f"a string over {_MAX_KEY_BYTES} bytes (DynamoDB's key limit)"
        return None
    if isinstance(part, (bytes, bytearray)):
        return "empty bytes (DynamoDB keys cannot be empty)" if not part else None
    if isinstance(part, bool) or not isinstance(part, (int, Decimal)):
        return f"a {type(part).__name__}"
    try:
        serialize(part)
    except EncodeError as exc:
        return f"a number DynamoDB cannot store ({exc.reason})"
    return None


def check_group(group: object) -> str | None:
    """Why ``group`` cannot be a group key, or None when it can.

    A group is a non-empty string, non-empty bytes or a number DynamoDB can store, or a tuple
    of those: the same rule for every sink, so that a record fails the same way in tests
    (``MemorySink``) and in production (``DynamoDBSink``).

    Example:
        >>> check_group("INV-1") is None, check_group("")
        (True, 'an empty string (DynamoDB keys cannot be empty)')
    """
    if isinstance(group, tuple):
        if not group:
            return "an empty tuple"
        for part in group:
            problem = _scalar_problem(part)
            if problem is not None:
                return f"a tuple holding {problem}"
        return None
    return _scalar_problem(group)
