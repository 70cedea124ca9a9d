"""Test helper: what boto3 hands a program, made from what Lambda sends (boto3 wants ``B`` and
``BS`` as ``bytes``; ``get_records`` returns datetimes and the service model's names)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

__all__ = ["as_get_records", "boto3_shape"]


def boto3_shape(av: dict[str, Any]) -> dict[str, Any]:
    """A descriptor as boto3 takes and returns it: B/BS as bytes instead of base64 text."""
    ((tag, value),) = av.items()
    if tag == "B":
        return {"B": base64.b64decode(value)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in value]}
    if tag == "M":
        return {"M": {k: boto3_shape(v) for k, v in value.items()}}
    if tag == "L":
        return {"L": [boto3_shape(v) for v in value]}
    return av


def as_get_records(record: dict[str, Any]) -> dict[str, Any]:
    """A Lambda record as boto3's ``dynamodbstreams.get_records`` returns it."""
    ddb = record["dynamodb"]
    out_ddb: dict[str, Any] = {}
    for field, value in ddb.items():
        if field == "ApproximateCreationDateTime":
            out_ddb[field] = dt.datetime.fromtimestamp(value, tz=dt.timezone(dt.timedelta(hours=2)))
        elif field in ("Keys", "NewImage", "OldImage"):
            out_ddb[field] = {k: boto3_shape(v) for k, v in value.items()}
        else:
            out_ddb[field] = value
    out = {k: record[k] for k in ("eventID", "eventName", "eventVersion", "eventSource")}
    out["awsRegion"] = record["awsRegion"]
    if "userIdentity" in record:
        identity = record["userIdentity"]
        out["userIdentity"] = {"PrincipalId": identity["principalId"], "Type": identity["type"]}
    out["dynamodb"] = out_ddb
    return out
