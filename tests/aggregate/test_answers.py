"""ddbstream.aggregate._answers: DynamoDB's answers read through the one botocore boundary."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from ddbstream import TransientError, UsageError
from ddbstream._aws import aws_error, call, from_client, to_client
from ddbstream.aggregate._answers import rejection


def _client_error(code: str, message: str = "m") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "UpdateItem")


def _raise(exc: Exception) -> Any:
    def fn(**_: Any) -> Any:
        raise exc

    return fn


def test_retryable_errors_become_transient_and_others_usage_errors() -> None:
    for exc in (
        _client_error("ThrottlingException"),
        _client_error("InternalServerError"),
        ReadTimeoutError(endpoint_url="http://x"),
    ):
        with pytest.raises(TransientError):
            call("reading", _raise(exc))
    for code in ("ResourceNotFoundException", "AccessDeniedException", "ValidationException"):
        with pytest.raises(UsageError, match=code):
            call("reading", _raise(_client_error(code)))
    with pytest.raises(KeyError):  # not from AWS: not ours to map
        call("reading", _raise(KeyError("x")))


def test_validation_errors_about_the_value_reject_the_group() -> None:
    for message in (
        "The AttributeValue for a key attribute cannot contain an empty string value.",
        "Number overflow. Attempting to store a number with magnitude larger than supported range",
        "Attempting to store more than 38 significant digits",
        "Item size has exceeded the maximum allowed size",
    ):
        error = aws_error(_client_error("ValidationException", message))
        assert error is not None
        assert rejection(error) is not None, message
    error = aws_error(_client_error("ValidationException", "Invalid UpdateExpression: syntax"))
    assert error is not None
    assert rejection(error) is None


def test_binary_values_convert_between_lambdas_form_and_the_clients() -> None:
    lambda_form = {"M": {"b": {"B": "aGk="}, "s": {"BS": ["aGk="]}, "l": {"L": [{"N": "1"}]}}}
    client_form = {"M": {"b": {"B": b"hi"}, "s": {"BS": [b"hi"]}, "l": {"L": [{"N": "1"}]}}}
    assert to_client(lambda_form) == client_form
    assert from_client(client_form) == lambda_form
