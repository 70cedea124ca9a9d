"""Synthetic Lambda-shaped records for the runner tests."""

from __future__ import annotations

from typing import Any

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-01-01T00:00:00.000"


def rec(seq: int, pk: str = "a", *, t: float = 1_700_000_000.0, **attrs: Any) -> dict[str, Any]:
    """A Lambda-shaped INSERT record with sequence number ``seq`` (21 digits) and key ``pk``."""
    image = {"pk": {"S": pk}, **{k: {"S": str(v)} for k, v in attrs.items()}}
    return {
        "eventID": f"id{seq}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": t,
            "Keys": {"pk": {"S": pk}},
            "NewImage": image,
            "SequenceNumber": f"{seq:021d}",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }
