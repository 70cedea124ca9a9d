"""The outbox: record a message once per id, for a separate sender to deliver.

A stream handler cannot call an email or payment API safely: Lambda may deliver the record again
after the call, and the call cannot be taken back. It can record the message instead, under an
id derived from what it is about (``welcome#<UserId>``), with a conditional put: the first
delivery records it, every later one finds it there. A sender then delivers each message from
the outbox table's own stream (see ``docs/once.md``: the sender's side).
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

from .._aws import aws_error, to_client, transient
from .._codec import serialize_image
from .._errors import EncodeError, UsageError
from .._reprs import short_repr
from .._settle import Retry
from ._dynamodb import KeyedTable, create_keyed_table
from ._persist import persist

__all__ = ["DynamoDBOutbox", "MemoryOutbox", "Outbox"]


class Outbox(Protocol):
    """Where messages wait for their sender: one per id, the first one recorded wins."""

    def put(self, message_id: str, message: Mapping[str, Any]) -> bool:
        """Record ``message`` (attributes, plain Python values) under ``message_id`` unless a
        message with that id is there; True when this call recorded it."""
        ...


def _check(message_id: object, message: object, key: str) -> None:
    if not isinstance(message_id, str) or not message_id:
        raise UsageError(f"a message id is a non-empty string, got {short_repr(message_id)}")
    if not isinstance(message, Mapping):
        raise UsageError(f"a message is a mapping of attributes, got {type(message).__name__}")
    if key in message:
        raise UsageError(f"the message has its own {key!r}; the outbox sets it to the message id")


def _now(clock: Callable[[], float]) -> str:
    return _dt.datetime.fromtimestamp(clock(), _dt.timezone.utc).isoformat(timespec="milliseconds")


class DynamoDBOutbox(KeyedTable):
    """An :class:`Outbox` in a DynamoDB table: one conditional ``PutItem`` per message.

    Args:
        table: the table's name (partition key ``key``, a String).
        key: the attribute holding the message id.
        created_attribute: an attribute set to the ISO-8601 UTC time the message was recorded
            (None: none), unless the message has it.
        client: a boto3 DynamoDB client (default: ``boto3.client("dynamodb")`` on first use).
        retry: backoff for throttling and lost answers.
        clock: the time in epoch seconds, for ``created_attribute``.

    A message costs 1 WCU per KB when it is recorded, and 1 WCU when it was there already (a
    failed condition is charged). A lost answer is retried: the retry then finds the message
    and answers False, although this call recorded it; either way it is there once.

    Example:
        >>> DynamoDBOutbox("Outbox")
        DynamoDBOutbox('Outbox')
    """

    __slots__ = ("created_attribute", "retry")
    _DEFAULT_KEY = "MessageId"

    def __init__(
        self,
        table: str,
        *,
        key: str = "MessageId",
        created_attribute: str | None = "CreatedAt",
        client: Any = None,
        retry: Retry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(table, key=key, client=client, clock=clock)
        self.created_attribute = created_attribute
        self.retry = retry if retry is not None else Retry()

    def create_table(self, *, billing_mode: str = "PAY_PER_REQUEST") -> None:
        """Create the table unless it exists, with a ``NEW_IMAGE`` stream for the sender."""
        create_keyed_table(
            self.client, self.table, self.key, ttl=None, billing=billing_mode, stream="NEW_IMAGE"
        )

    def put(self, message_id: str, message: Mapping[str, Any]) -> bool:
        """Record ``message`` under ``message_id`` unless one is there (see :class:`Outbox`).

        Raises:
            EncodeError: a value DynamoDB cannot store, or an item over 400 KB.
            TransientError: still throttled (or unanswered) after ``retry``'s attempts.
            UsageError: a bad id or message, a missing table, no permission.
        """
        _check(message_id, message, self.key)
        item = dict(message)
        if self.created_attribute is not None and self.created_attribute not in item:
            item[self.created_attribute] = _now(self._clock)
        encoded = {k: to_client(v) for k, v in serialize_image(item).items()}
        encoded[self.key] = {"S": message_id}
        return persist(
            lambda: self._put(message_id, encoded),
            what=f"recording {message_id!r}",
            retry=self.retry,
        )

    def _put(self, message_id: str, item: dict[str, Any]) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(#k)",
                ExpressionAttributeNames={"#k": self.key},
            )
        except Exception as exc:
            error = aws_error(exc)
            if error is None:
                raise
            if error.kind == "condition":
                return False
            if error.retryable:
                raise transient(error) from exc
            what = f"recording {message_id!r} in {self.table}: {error.code}: {error.message}"
            if error.kind == "validation" and "size" in error.message.lower():
                raise EncodeError(what) from exc
            raise UsageError(what) from exc
        return True


class MemoryOutbox:
    """An :class:`Outbox` in a dict, with the DynamoDB outbox's semantics, for tests.

    Example:
        >>> outbox = MemoryOutbox(created_attribute=None)
        >>> outbox.put("welcome#u1", {"To": "ann@example.com"})
        True
        >>> outbox.put("welcome#u1", {"To": "other@example.com"})
        False
        >>> dict(outbox.messages)
        {'welcome#u1': {'To': 'ann@example.com', 'MessageId': 'welcome#u1'}}
    """

    __slots__ = ("_clock", "_lock", "_messages", "created_attribute", "key")

    def __init__(
        self,
        *,
        key: str = "MessageId",
        created_attribute: str | None = "CreatedAt",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.created_attribute = created_attribute
        self._clock = clock
        self._messages: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "MemoryOutbox()"

    @property
    def messages(self) -> Mapping[str, Mapping[str, Any]]:
        """The recorded messages by id (a read-only view), in the order they were recorded."""
        return MappingProxyType(self._messages)

    def put(self, message_id: str, message: Mapping[str, Any]) -> bool:
        """Record ``message`` under ``message_id`` unless one is there (see :class:`Outbox`).

        Raises:
            EncodeError: a value DynamoDB cannot store.
            UsageError: a bad id or message.
        """
        _check(message_id, message, self.key)
        item = dict(message)
        if self.created_attribute is not None and self.created_attribute not in item:
            item[self.created_attribute] = _now(self._clock)
        serialize_image(item)  # what DynamoDB would refuse is refused here too
        item[self.key] = message_id
        with self._lock:
            if message_id in self._messages:
                return False
            self._messages[message_id] = item
        return True
