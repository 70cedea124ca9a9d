"""The record an event source mapping writes when it gives up on records: built and parsed.

When retries run out (or records grow too old) Lambda sends the on-failure destination an
invocation record: to SQS and SNS the metadata only (``DDBStreamBatchInfo``: shard, first and
last SequenceNumber, stream ARN, batch size, approximate arrival times), to S3 the same plus
``payload``, the invocation event as JSON text, in an object named
``aws/lambda/<mapping UUID>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>``.
:class:`FailureRecord` is that record: the runner builds it, destinations write it in either
shape, and :meth:`FailureRecord.parse` reads what AWS (or the runner) wrote, so a redrive can
start from it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._errors import DecodeError, PathItem, UsageError
from ._batches import Entry, event_text, to_entries

__all__ = ["FailureRecord", "failure_record"]

_UTC = _dt.timezone.utc


def _seconds(moment: _dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _millis(moment: _dt.datetime) -> str:
    moment = moment.astimezone(_UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _arrival(created: float | None) -> _dt.datetime | None:
    if created is None:
        return None
    try:
        return _dt.datetime.fromtimestamp(int(created), tz=_UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class FailureRecord:
    """An on-failure invocation record of a DynamoDB stream mapping (SQS, SNS or S3 shape).

    Attributes:
        shard_id / start_sequence_number / end_sequence_number / batch_size / stream_arn:
            ``DDBStreamBatchInfo``: which records were given up.
        approximate_arrival_of_first_record / approximate_arrival_of_last_record: their
            creation times (aware UTC, second precision), when known.
        condition: ``RetryAttemptsExhausted`` or ``RecordAgeExceeded``.
        approximate_invoke_count: invocations that included these records.
        function_arn / request_id: the function and the last invocation's request id.
        function_error: ``"Unhandled"`` after an exception, None after a reported failure.
        status_code / executed_version / version: as AWS writes them.
        timestamp: when the records were given up (aware UTC, millisecond precision).
        payload: the S3 shape's ``payload``: the invocation event as JSON text (None for the
            SQS/SNS shape, which holds no records).

    Example:
        >>> body = '''{"requestContext": {"condition": "RetryAttemptsExhausted",
        ...   "approximateInvokeCount": 3}, "DDBStreamBatchInfo": {"shardId": "shardId-1",
        ...   "startSequenceNumber": "100", "endSequenceNumber": "104", "batchSize": 2,
        ...   "streamArn": "arn:aws:dynamodb:us-east-1:1:table/T/stream/x"}}'''
        >>> failure = FailureRecord.parse(body)
        >>> failure.shard_id, failure.start_sequence_number, failure.approximate_invoke_count
        ('shardId-1', '100', 3)
    """

    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    batch_size: int
    stream_arn: str
    approximate_arrival_of_first_record: _dt.datetime | None = None
    approximate_arrival_of_last_record: _dt.datetime | None = None
    condition: str = "RetryAttemptsExhausted"
    approximate_invoke_count: int = 0
    function_arn: str | None = None
    request_id: str | None = None
    function_error: str | None = None
    status_code: int = 200
    executed_version: str = "$LATEST"
    version: str = "1.0"
    timestamp: _dt.datetime | None = None
    payload: str | None = None

    # -- building -------------------------------------------------------------------------

    @classmethod
    def of(
        cls,
        entries: Sequence[Entry],
        *,
        shard_id: str,
        stream_arn: str,
        function_arn: str,
        condition: str,
        invoke_count: int,
        function_error: str | None,
        request_id: str | None = None,
        now: _dt.datetime | None = None,
    ) -> FailureRecord:
        """The record for ``entries`` (in order), with their payload for the S3 shape."""
        moment = now or _dt.datetime.now(_UTC)
        return cls(
            shard_id=shard_id,
            start_sequence_number=entries[0].sequence_number,
            end_sequence_number=entries[-1].sequence_number,
            batch_size=len(entries),
            stream_arn=stream_arn,
            approximate_arrival_of_first_record=_arrival(entries[0].created),
            approximate_arrival_of_last_record=_arrival(entries[-1].created),
            condition=condition,
            approximate_invoke_count=invoke_count,
            function_arn=function_arn,
            request_id=request_id or str(uuid.uuid4()),
            function_error=function_error,
            timestamp=moment.replace(microsecond=moment.microsecond // 1000 * 1000),
            payload=event_text(entries),
        )

    def to_dict(self, *, with_payload: bool = False) -> dict[str, Any]:
        """AWS's shape: the SQS/SNS message body, or with ``with_payload`` the S3 object."""
        out: dict[str, Any] = {
            "requestContext": {
                "requestId": self.request_id or str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": self.condition,
                "approximateInvokeCount": self.approximate_invoke_count,
            },
            "responseContext": {
                "statusCode": self.status_code,
                "executedVersion": self.executed_version,
                "functionError": self.function_error,
            },
            "version": self.version,
            "timestamp": _millis(self.timestamp or _dt.datetime.now(_UTC)),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": self.start_sequence_number,
                "endSequenceNumber": self.end_sequence_number,
                "approximateArrivalOfFirstRecord": _seconds(
                    self.approximate_arrival_of_first_record
                ),
                "approximateArrivalOfLastRecord": _seconds(self.approximate_arrival_of_last_record),
                "batchSize": self.batch_size,
                "streamArn": self.stream_arn,
            },
        }
        if with_payload and self.payload is not None:
            out["payload"] = self.payload
        return out

    def s3_key(self, mapping_uuid: str) -> str:
        """The S3 object key AWS gives this record:
        ``aws/lambda/<mapping UUID>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>``."""
        moment = (self.timestamp or _dt.datetime.now(_UTC)).astimezone(_UTC)
        return (
            f"aws/lambda/{mapping_uuid}/{self.shard_id}/{moment:%Y/%m/%d}/"
            f"{moment:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
        )

    @property
    def records(self) -> list[dict[str, Any]] | None:
        """The records of the payload (a fresh copy each time), or None without a payload."""
        if self.payload is None:
            return None
        return _payload_records(self.payload)

    # -- parsing --------------------------------------------------------------------------

    @classmethod
    def parse(cls, value: object) -> FailureRecord:
        """Read an on-failure record: the dict or JSON text of the SQS/SNS or S3 shape, an SQS
        message (``Body``/``body``), an SNS notification (``Message``) or a Lambda SNS event
        record (``Sns.Message``).

        Raises:
            DecodeError: not an on-failure record of a DynamoDB stream (names the bad field).
        """
        data = _unwrap(value)
        info = _object(data.get("DDBStreamBatchInfo"), ("DDBStreamBatchInfo",))
        request = _object(data.get("requestContext", {}), ("requestContext",))
        response = _object(data.get("responseContext", {}), ("responseContext",))
        return cls(
            shard_id=_text(info, "shardId", ("DDBStreamBatchInfo",)),
            start_sequence_number=_digits(info, "startSequenceNumber"),
            end_sequence_number=_digits(info, "endSequenceNumber"),
            batch_size=_count(info, "batchSize", ("DDBStreamBatchInfo",)),
            stream_arn=_text(info, "streamArn", ("DDBStreamBatchInfo",)),
            approximate_arrival_of_first_record=_moment(
                info, "approximateArrivalOfFirstRecord", ("DDBStreamBatchInfo",)
            ),
            approximate_arrival_of_last_record=_moment(
                info, "approximateArrivalOfLastRecord", ("DDBStreamBatchInfo",)
            ),
            condition=_optional_text(request, "condition", ("requestContext",))
            or "RetryAttemptsExhausted",
            approximate_invoke_count=_count(
                request, "approximateInvokeCount", ("requestContext",), default=0
            ),
            function_arn=_optional_text(request, "functionArn", ("requestContext",)),
            request_id=_optional_text(request, "requestId", ("requestContext",)),
            function_error=_optional_text(response, "functionError", ("responseContext",)),
            status_code=_count(response, "statusCode", ("responseContext",), default=200),
            executed_version=_optional_text(response, "executedVersion", ("responseContext",))
            or "$LATEST",
            version=_optional_text(data, "version", ()) or "1.0",
            timestamp=_moment(data, "timestamp", ()),
            payload=_payload(data.get("payload")),
        )

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> list[FailureRecord]:
        """Every on-failure record in a file (JSON lines, or one JSON record or list) or a
        folder (its files, recursively, e.g. a copy of the S3 destination), oldest first.

        Raises:
            DecodeError: a record cannot be read (the message names the file and line).
            UsageError: the path does not exist.
        """
        root = Path(path)
        if not root.exists():
            raise UsageError(f"no such file or folder: {root}")
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        found = [record for file in files for record in _read_file(cls, file)]
        epoch = _dt.datetime.min.replace(tzinfo=_UTC)
        return sorted(found, key=lambda r: r.timestamp or epoch)


def _read_file(cls: type[FailureRecord], file: Path) -> Iterable[FailureRecord]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DecodeError(f"{file}: cannot read it ({exc})") from None
    try:
        whole: object = json.loads(text)
    except ValueError:
        whole = None
    if whole is not None:
        values = whole if isinstance(whole, list) else [whole]
        return [_located(cls, value, f"{file}") for value in values]
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    return [_located(cls, line, f"{file}, line {n}") for n, line in lines]


def _located(cls: type[FailureRecord], value: object, where: str) -> FailureRecord:
    try:
        return cls.parse(value)
    except DecodeError as exc:
        raise DecodeError(f"{where}: {exc.reason}", path=exc.path) from None


def _unwrap(value: object) -> Mapping[str, Any]:
    for _ in range(3):  # an SNS notification inside an SQS message, at most
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise DecodeError(f"an on-failure record must be JSON: {exc}") from None
        if not isinstance(value, Mapping):
            raise DecodeError(f"an on-failure record must be an object, not {type(value).__name__}")
        if "DDBStreamBatchInfo" in value:
            return value
        sns = value.get("Sns")
        inner = sns.get("Message") if isinstance(sns, Mapping) else None
        inner = inner or value.get("Message") or value.get("Body") or value.get("body")
        if not isinstance(inner, (str, bytes, bytearray)):
            break
        value = inner
    raise DecodeError(
        "not an on-failure record of a DynamoDB stream: no DDBStreamBatchInfo",
        path=("DDBStreamBatchInfo",),
    )


def _object(value: object, path: tuple[PathItem, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DecodeError(f"must be an object, not {type(value).__name__}", path=path)
    return value


def _text(data: Mapping[str, Any], key: str, path: tuple[PathItem, ...]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise DecodeError(f"must be a non-empty string, not {value!r:.60}", path=(*path, key))
    return value


def _optional_text(data: Mapping[str, Any], key: str, path: tuple[PathItem, ...]) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise DecodeError(f"must be a string, not {value!r:.60}", path=(*path, key))
    return value


def _digits(data: Mapping[str, Any], key: str) -> str:
    value = _text(data, key, ("DDBStreamBatchInfo",))
    if not (value.isdigit() and value.isascii()):
        raise DecodeError(
            f"a SequenceNumber is digits, not {value!r:.60}", path=("DDBStreamBatchInfo", key)
        )
    return value


def _count(
    data: Mapping[str, Any], key: str, path: tuple[PathItem, ...], *, default: int | None = None
) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DecodeError(f"must be a count, not {value!r:.60}", path=(*path, key))
    return value


def _moment(data: Mapping[str, Any], key: str, path: tuple[PathItem, ...]) -> _dt.datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=_UTC)
    raise DecodeError(f"must be an ISO 8601 time, not {value!r:.60}", path=(*path, key))


def _payload(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):  # LocalStack writes the event as an object
        try:
            value = json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"is not JSON: {exc}", path=("payload",)) from None
    if not isinstance(value, str):
        raise DecodeError(f"must be the event as JSON text, not {value!r:.60}", path=("payload",))
    _payload_records(value)
    return value


def _payload_records(text: str) -> list[dict[str, Any]]:
    try:
        event = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"is not JSON: {exc}", path=("payload",)) from None
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        raise DecodeError('must be an event {"Records": [...]}', path=("payload", "Records"))
    to_entries(records)  # every record has its SequenceNumber
    return records


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

    Raises:
        DecodeError: a record has no SequenceNumber.
    """
    return FailureRecord.of(
        to_entries(records),
        shard_id=shard_id,
        stream_arn=stream_arn,
        function_arn=function_arn,
        condition=condition,
        invoke_count=invoke_count,
        function_error=function_error,
        request_id=request_id,
    ).to_dict()
