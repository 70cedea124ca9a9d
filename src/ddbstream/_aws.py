"""The one boundary between ddbstream and boto3/botocore.

boto3 is optional (every Lambda Python runtime ships it; ``pip install 'ddbstream[aws]'`` brings
it elsewhere) and slow to import, so it is imported here, on first use, and nowhere else. Errors
that botocore raises are read here too: :func:`aws_error` turns any exception into an
:class:`AwsError` (its code, message and :data:`Kind`) or ``None`` when it did not come from AWS,
so callers decide by kind, from one table, instead of matching class names and codes
themselves. httpx's ``map_httpcore_exceptions`` is the model. What every DynamoDB sink and store
shares lives here as well: :func:`call` (one request, its errors mapped to ours) and the
descriptors in the client's shape (:func:`to_client`, :func:`from_client`: ``B`` as bytes).

Example:
    >>> aws_error(ValueError("not from AWS")) is None
    True
"""

from __future__ import annotations

import base64
import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, TypeVar

from ._errors import DDBStreamError, TransientError, UsageError
from ._lazy import require

__all__ = [
    "AwsError",
    "Kind",
    "aws_error",
    "boto3",
    "call",
    "client",
    "from_client",
    "lazy_dynamodb",
    "setup_errors",
    "to_client",
    "transient",
]

R = TypeVar("R")

Kind = Literal[
    "throttled",
    "server",
    "unanswered",
    "conflict",
    "condition",
    "cancelled",
    "not_found",
    "validation",
    "credentials",
    "trimmed",
    "expired",
    "other",
]
"""What went wrong, as far as a caller needs to know:

* ``throttled``, ``server``, ``conflict``: AWS refused for now; a retry with backoff may succeed.
* ``unanswered``: no answer (connection reset, timeout); a write may or may not have landed.
* ``condition``: a ``ConditionExpression`` was false; ``cancelled``: a transaction was cancelled
  (its ``CancellationReasons`` say why).
* ``not_found``, ``validation``, ``credentials``: the request cannot work as sent.
* ``trimmed``, ``expired``: a stream's data is gone, or an iterator is too old.
"""

_KIND_OF_CODE: Mapping[str, Kind] = {
    "ProvisionedThroughputExceededException": "throttled",
    "ThrottlingException": "throttled",
    "RequestLimitExceeded": "throttled",
    "LimitExceededException": "throttled",
    "InternalServerError": "server",
    "InternalFailure": "server",
    "ServiceUnavailable": "server",
    "TransactionConflictException": "conflict",
    "TransactionInProgressException": "conflict",
    "ConditionalCheckFailedException": "condition",
    "TransactionCanceledException": "cancelled",
    "ResourceNotFoundException": "not_found",
    "ValidationException": "validation",
    "SerializationException": "validation",
    "UnrecognizedClientException": "credentials",
    "AccessDeniedException": "credentials",
    "TrimmedDataAccessException": "trimmed",
    "ExpiredIteratorException": "expired",
}

_KIND_OF_CLASS: Mapping[str, Kind] = {
    "EndpointConnectionError": "unanswered",
    "ConnectionClosedError": "unanswered",
    "ConnectTimeoutError": "unanswered",
    "ReadTimeoutError": "unanswered",
    "ConnectionError": "unanswered",
    "ProxyConnectionError": "unanswered",
    "HTTPClientError": "unanswered",
    "ParamValidationError": "validation",
    "NoCredentialsError": "credentials",
    "PartialCredentialsError": "credentials",
    "NoRegionError": "credentials",
}

RETRYABLE: frozenset[Kind] = frozenset({"throttled", "server", "conflict", "unanswered"})


@dataclass(frozen=True, slots=True)
class AwsError:
    """What an exception raised by boto3 or botocore says, in ddbstream's terms.

    Attributes:
        kind: see :data:`Kind`.
        code: the AWS error code (``"ValidationException"``), or the botocore class name for
            errors that never reached AWS.
        message: AWS's message, or the exception's text.
        response: the parsed error response (``CancellationReasons``, ``Item``...), or ``{}``.
    """

    kind: Kind
    code: str
    message: str
    response: Mapping[str, Any]

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed later (throttling, a 5xx, no answer)."""
        return self.kind in RETRYABLE


def aws_error(exc: BaseException) -> AwsError | None:
    """Read an exception raised by boto3/botocore; ``None`` for anything else.

    botocore is never imported here: a ``ClientError`` is recognised by its ``response``, any
    other botocore error by its module.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and isinstance(error.get("Code"), str):
            code = str(error["Code"])
            message = str(error.get("Message") or "")
            return AwsError(_KIND_OF_CODE.get(code, "other"), code, message, response)
    module = type(exc).__module__ or ""
    if not module.startswith(("botocore", "boto3")):
        return None
    for cls in type(exc).__mro__:
        kind = _KIND_OF_CLASS.get(cls.__name__)
        if kind is not None:
            return AwsError(kind, type(exc).__name__, str(exc), {})
    return AwsError("other", type(exc).__name__, str(exc), {})


def boto3() -> ModuleType:
    """The boto3 module, imported on first use; a :class:`UsageError` names the extra if absent."""
    return require("boto3", purpose="talking to DynamoDB")


def client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    validate: bool = True,
    credentials: Mapping[str, str] | None = None,
    retries: Mapping[str, Any] | None = None,
) -> Any:
    """A boto3 client for ``service`` (``"dynamodb"``, ``"dynamodbstreams"``).

    Args:
        region: default: boto3's configuration (``AWS_REGION``...).
        endpoint_url: default: boto3's (it honours ``AWS_ENDPOINT_URL``).
        validate: botocore's client-side parameter validation (about 0.3 ms per transaction
            action; DynamoDB validates every request anyway).
        credentials: ``aws_access_key_id`` / ``aws_secret_access_key`` instead of boto3's chain.
        retries: botocore's ``retries`` configuration.
    """
    config_cls = require("botocore.config", purpose="talking to DynamoDB").Config
    options: dict[str, Any] = {"parameter_validation": validate}
    if retries is not None:
        options["retries"] = dict(retries)
    session = boto3().session.Session(region_name=region)
    return session.client(
        service, endpoint_url=endpoint_url, config=config_cls(**options), **(credentials or {})
    )


@contextlib.contextmanager
def setup_errors(what: str) -> Iterator[None]:
    """Turn an AWS error met while setting something up into a one-line :class:`UsageError`.

    For the moments when no retry makes sense: resolving a table's stream, creating a client.
    """
    try:
        yield
    except DDBStreamError:
        raise
    except Exception as exc:
        error = aws_error(exc)
        if error is None:
            raise
        if error.kind == "not_found":
            raise UsageError(f"{what}: not found ({error.message or error.code})") from exc
        if error.kind == "unanswered":
            raise UsageError(f"{what}: cannot reach the endpoint ({error.message})") from exc
        if error.kind == "credentials":
            raise UsageError(f"{what}: {error.message or error.code}") from exc
        raise UsageError(f"{what}: {error.code}: {error.message}") from exc


# -- what the sinks and stores built on DynamoDB share -----------------------------------

_LAZY_LOCK = threading.Lock()


def lazy_dynamodb(owner: Any, attribute: str = "_client") -> Any:
    """The DynamoDB client in ``owner.<attribute>``, made there on first use if it is None:
    once, whichever thread asks first, with botocore's parameter validation off (DynamoDB
    validates every request anyway). Sinks and stores take a client or make their own this way.
    """
    if getattr(owner, attribute) is None:
        with _LAZY_LOCK, setup_errors("creating a DynamoDB client"):
            if getattr(owner, attribute) is None:
                setattr(owner, attribute, client("dynamodb", validate=False))
    return getattr(owner, attribute)


def transient(error: AwsError) -> TransientError:
    """A retryable AWS error as the TransientError the exactly-once core retries."""
    return TransientError(f"{error.code}: {error.message}")


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
