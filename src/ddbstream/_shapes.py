"""Turn a boto3 ``dynamodbstreams.get_records`` record into the exact record Lambda delivers.

boto3 parses the wire format: ``ApproximateCreationDateTime`` becomes a ``datetime``, ``B``/``BS``
become ``bytes``, ``userIdentity`` uses the service model's ``PrincipalId``/``Type`` names, and
``eventSourceARN`` is absent. Lambda sends epoch seconds as a JSON number, base64 text,
lower-case ``principalId``/``type`` and the stream ARN. Field order follows a real AWS event.

DynamoDB Local writes TTL deletions with ``eventName: "UNKNOWN_TO_SDK_VERSION"`` and no
``userIdentity``; AWS writes ``REMOVE`` with the DynamoDB service identity. This converter maps
the former to the latter (the only way DynamoDB Local produces a record without a NewImage
under an unknown name), so handlers see what AWS would send. DynamoDB Local also writes an empty
map as a bare ``{}`` in stream images (GetItem returns ``{"M": {}}``); ``{}`` is never a valid
AttributeValue, so it is restored to ``{"M": {}}``.
"""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Mapping
from typing import Any

from ._errors import DecodeError
from ._types import EventName

__all__ = [
    "TTL_USER_IDENTITY",
    "lambda_record_from_get_records",
    "region_from_arn",
    "table_name_from_arn",
]

#: The ``userIdentity`` Lambda puts on records of items deleted by DynamoDB's TTL.
TTL_USER_IDENTITY: Mapping[str, str] = {
    "type": "Service",
    "principalId": "dynamodb.amazonaws.com",
}
_KNOWN_EVENT_NAMES = frozenset(name.value for name in EventName)


def table_name_from_arn(arn: str) -> str | None:
    """``arn:aws:dynamodb:r:a:table/Orders/stream/2024...`` -> ``"Orders"``."""
    _, _, resource = arn.partition(":table/")
    if not resource:
        return None
    return resource.split("/", 1)[0] or None


def region_from_arn(arn: str) -> str | None:
    """The region field of an ARN, or None when the text is not an ARN."""
    parts = arn.split(":", 5)
    return parts[3] or None if len(parts) == 6 and parts[0] == "arn" else None


def _b64(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raw = getattr(value, "value", None)  # boto3.dynamodb.types.Binary
    if isinstance(raw, bytes):
        return base64.b64encode(raw).decode("ascii")
    return value


def _lambda_value(av: Mapping[str, Any]) -> dict[str, Any]:
    if not av:  # DynamoDB Local writes an empty map as {} without its M tag
        return {"M": {}}
    out: dict[str, Any] = {}
    for tag, value in av.items():
        if tag == "B":
            out[tag] = _b64(value)
        elif tag == "BS":
            out[tag] = [_b64(v) for v in value]
        elif tag == "M":
            out[tag] = {k: _lambda_value(v) for k, v in value.items()}
        elif tag == "L":
            out[tag] = [_lambda_value(v) for v in value]
        else:
            out[tag] = value
    return out


def _lambda_image(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _lambda_value(av) for name, av in image.items()}


def _epoch(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return float(value.timestamp())
    return value


def lambda_record_from_get_records(
    record: Mapping[str, Any], stream_arn: str, *, region: str | None = None
) -> dict[str, Any]:
    """Return a new dict shaped like one entry of a Lambda DynamoDB event's ``Records``.

    Args:
        record: one element of ``get_records(...)["Records"]`` as boto3 returns it.
        stream_arn: the stream's ARN (GetRecords omits ``eventSourceARN``).
        region: overrides ``awsRegion`` (DynamoDB Local reports ``ddblocal``).

    Raises:
        DecodeError: the record lacks ``dynamodb`` or ``eventName``.
    """
    if not isinstance(record, Mapping) or not isinstance(record.get("dynamodb"), Mapping):
        raise DecodeError("a GetRecords record must have a 'dynamodb' object")
    ddb: Mapping[str, Any] = record["dynamodb"]
    seq = ddb.get("SequenceNumber")
    name = record.get("eventName")
    if not isinstance(name, str):
        raise DecodeError("a GetRecords record must have an eventName", sequence_number=seq)
    identity = record.get("userIdentity")
    if name not in _KNOWN_EVENT_NAMES and "NewImage" not in ddb and "Keys" in ddb:
        name, identity = EventName.REMOVE.value, dict(TTL_USER_IDENTITY)
    elif isinstance(identity, Mapping):
        identity = {
            "type": identity.get("type", identity.get("Type")),
            "principalId": identity.get("principalId", identity.get("PrincipalId")),
        }
    dynamodb: dict[str, Any] = {}
    for field in ("ApproximateCreationDateTime", "Keys", "NewImage", "OldImage"):
        if field in ddb:
            value = ddb[field]
            dynamodb[field] = (
                _epoch(value) if field == "ApproximateCreationDateTime" else (_lambda_image(value))
            )
    for field in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if field in ddb:
            dynamodb[field] = ddb[field]
    out: dict[str, Any] = {
        "eventID": record.get("eventID"),
        "eventName": name,
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": record.get("eventSource", "aws:dynamodb"),
        "awsRegion": region or record.get("awsRegion") or region_from_arn(stream_arn),
    }
    if identity is not None:
        out["userIdentity"] = identity
    out["dynamodb"] = dynamodb
    out["eventSourceARN"] = stream_arn
    return out
