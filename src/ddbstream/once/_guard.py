"""``Once``: run a route's side effect once per key, under Lambda's at-least-once delivery.

Each call claims the key in a :class:`~ddbstream.once.Store` before the effect and completes it
after. A claim held by a live attempt fails the record (:class:`~ddbstream.EffectInProgress`),
so the Router stops there and Lambda delivers the record again later: the stream's order and
stop-at-first-failure hold. What happens when an attempt dies is the guarantee chosen:

* ``"at-least-once"`` (default): an effect that raised releases its claim; one that crashed
  (timeout, out of memory) is taken over once its lease ends. The effect runs until it
  completes, and runs twice only when a crash falls between the effect and its completion.
* ``"at-most-once"``: a claim is never run twice. An effect that raised (except the exceptions
  in ``release_on``, which prove it did not happen) or crashed is skipped from then on, with a
  WARNING: it may have run, or not.
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, TypeVar

from .._batch import current_context, settle
from .._errors import DataError, DDBStreamError, EffectInProgress, UsageError
from .._marks import lane_of
from .._records import StreamRecord
from .._reprs import name_of, short_repr
from .._settle import Retry
from ._persist import persist
from ._store import Claim, Store

__all__ = ["DEFAULT_KEEP", "DEFAULT_LEASE", "Guarantee", "Once"]

M = TypeVar("M")
Guarantee = Literal["at-least-once", "at-most-once"]

_log = logging.getLogger("ddbstream.once")

#: Seconds a claim is kept after its last write: longer than a stream's 24-hour retention, so
#: every redelivery and replay of a record finds it.
DEFAULT_KEEP = 48 * 3600.0
#: Seconds a claim's lease lasts when no Lambda context tells the invocation's deadline: the
#: longest a Lambda invocation can run.
DEFAULT_LEASE = 900.0
#: Seconds added to the invocation's remaining time for a lease, for clock skew.
_LEASE_SLACK = 1.0
#: Longest partition key DynamoDB accepts, in bytes.
_MAX_KEY_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Once:
    """A decorator that runs a route's function at most once (or at least once) per key.

    Args:
        store: where claims live: :class:`DynamoDBStore` in Lambda, :class:`MemoryStore` in
            tests.
        key: ``(record) -> str``, the effect's key, e.g. ``lambda r:
            f"welcome#{r.new_image['UserId']}"``. Default: the record's item and SequenceNumber
            (each change once, whatever the redeliveries).
        guarantee: ``"at-least-once"`` or ``"at-most-once"`` (see the module's docs).
        namespace: prefixed to every key, so two effects of one record do not share a claim.
            Default: the function's module and qualified name (renaming the function starts
            afresh: pass a namespace to keep its claims).
        lease: seconds a claim protects a running attempt. Default: until the Lambda
            invocation's deadline (``DEFAULT_LEASE`` without a context).
        keep: seconds a claim is kept after its last write (``None``: forever, for a key such
            as ``welcome#<UserId>`` that must never run again). Default: 48 hours.
        release_on: with ``"at-most-once"``, exceptions that prove the effect did not happen
            (a validation error raised before sending): they release the claim.
        retry: backoff for a store that throttles or loses an answer.

    Example:
        >>> from ddbstream import Router
        >>> from ddbstream.once import MemoryStore, Once
        >>> from ddbstream.testing import insert, lambda_event
        >>> router, sent = Router(), []
        >>> @router.route(None)
        ... @Once(MemoryStore())
        ... def welcome(record):
        ...     sent.append(record.new_image["UserId"])
        >>> event = lambda_event(insert({"UserId": "u1"}))
        >>> router.handle(event), router.handle(event), sent
        ({'batchItemFailures': []}, {'batchItemFailures': []}, ['u1'])
    """

    store: Store
    _: KW_ONLY
    key: Callable[[StreamRecord[Any]], str] | None = None
    guarantee: Guarantee = "at-least-once"
    namespace: str | None = None
    lease: float | None = None
    keep: float | None = DEFAULT_KEEP
    release_on: tuple[type[BaseException], ...] = ()
    retry: Retry = field(default_factory=Retry)

    def __post_init__(self) -> None:
        if not all(callable(getattr(self.store, m, None)) for m in ("claim", "finish", "release")):
            raise UsageError(f"store must be a ddbstream.once.Store, got {self.store!r}")
        if self.key is not None and not callable(self.key):
            raise UsageError(f"key must be a function of the record, got {self.key!r}")
        if self.guarantee not in ("at-least-once", "at-most-once"):
            raise UsageError(
                f"guarantee must be 'at-least-once' or 'at-most-once', not {self.guarantee!r}"
            )
        for name in ("lease", "keep"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise UsageError(f"{name} must be a positive number of seconds, got {value!r}")
        if not isinstance(self.release_on, tuple) or not all(
            isinstance(c, type) and issubclass(c, BaseException) for c in self.release_on
        ):
            raise UsageError(
                f"release_on must be a tuple of exception classes, got {self.release_on!r}"
            )
        if self.release_on and self.guarantee == "at-least-once":
            raise UsageError(
                "release_on is for 'at-most-once': at least once releases on any error"
            )

    def __repr__(self) -> str:
        parts = [repr(self.store)]
        for name, default in _DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                parts.append(f"{name}={name_of(value) if name == 'key' else repr(value)}")
        return f"Once({', '.join(parts)})"

    def __call__(
        self, function: Callable[[StreamRecord[M]], object], /
    ) -> Callable[[StreamRecord[M]], None]:
        """Wrap ``function``; the wrapper returns None, also when it skips the effect."""
        if not callable(function):
            raise UsageError(f"Once decorates a function of the record, got {function!r}")
        namespace = self.namespace
        if namespace is None:
            namespace = (
                f"{function.__module__}.{getattr(function, '__qualname__', name_of(function))}"
            )
        name = name_of(function)

        @functools.wraps(function)
        def once(record: StreamRecord[M]) -> None:
            self._run(function, record, key=self.key_of(record, namespace=namespace), name=name)

        return once

    def key_of(self, record: StreamRecord[Any], *, namespace: str = "") -> str:
        """The key ``record`` is claimed under (``namespace#key``).

        Raises:
            DataError: the key function raised, or returned something other than a non-empty
                string, or the key is longer than DynamoDB's 2,048 bytes.
        """
        if self.key is None:
            item = lane_of("once", record.table_name, record.item_key)
            raw: object = f"{item}#{record.sequence_number}"
        else:
            try:
                raw = self.key(record)
            except DDBStreamError:
                raise
            except Exception as exc:
                reason = f"the key function {name_of(self.key)} raised {_describe(exc)}"
                raise _located(reason, record) from exc
        if not isinstance(raw, str) or not raw:
            reason = f"the key function returned {short_repr(raw)}, not a non-empty string"
            raise _located(reason, record)
        key = f"{namespace}#{raw}" if namespace else raw
        if len(key.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
            reason = f"the key {short_repr(key)} is over {_MAX_KEY_BYTES} bytes"
            raise _located(reason, record)
        return key

    def _run(
        self,
        function: Callable[[StreamRecord[M]], object],
        record: StreamRecord[M],
        *,
        key: str,
        name: str,
    ) -> None:
        token = secrets.token_hex(16)
        claim = self._claim(key, token)
        if claim.state == "running":
            until = _dt.datetime.fromtimestamp(claim.lease_until or 0, _dt.timezone.utc)
            raise EffectInProgress(
                f"{name}: another attempt holds {key!r} until {until.isoformat(timespec='seconds')}"
                "; Lambda delivers the record again"
            )
        if claim.state != "claimed":
            self._skipped(claim, key, name, record)
            return
        try:
            result = function(record)
            if result is not None:
                settle(result, route=name)
        except (KeyboardInterrupt, SystemExit):
            raise  # the process is going: the lease ends as for a crash
        except BaseException as exc:
            if self.guarantee == "at-least-once" or isinstance(exc, self.release_on):
                self._quietly(lambda: self.store.release(key, token=token), key, "releasing")
            else:
                self._quietly(lambda: self._finish(key, token, "failed"), key, "failing")
            raise
        self._quietly(lambda: self._finish(key, token, "done"), key, "completing")

    def _claim(self, key: str, token: str) -> Claim:
        take_over = self.guarantee == "at-least-once"
        lease = self._lease()
        return persist(
            lambda: self.store.claim(
                key, token=token, lease=lease, keep=self.keep, take_over=take_over
            ),
            what=f"claiming {key!r}",
            retry=self.retry,
        )

    def _finish(self, key: str, token: str, status: Literal["done", "failed"]) -> None:
        persist(
            lambda: self.store.finish(key, token=token, status=status, keep=self.keep),
            what=f"recording {key!r} {status}",
            retry=self.retry,
        )

    def _lease(self) -> float:
        if self.lease is not None:
            return self.lease
        context = current_context()
        if context is None:
            return DEFAULT_LEASE
        return context.get_remaining_time_in_millis() / 1000 + _LEASE_SLACK

    def _quietly(self, step: Callable[[], None], key: str, what: str) -> None:
        """Run a step after the effect; if the store cannot take it, log it: the lease ends it."""
        try:
            step()
        except DDBStreamError as exc:
            _log.warning(
                "%s the claim of %r failed: %s; it stays held until its lease ends",
                what,
                key,
                exc,
                extra={"once_key": key},
            )

    def _skipped(self, claim: Claim, key: str, name: str, record: StreamRecord[Any]) -> None:
        if claim.state == "done":
            _log.debug("%s: %r is done already, skipped", name, key)
            return
        how = "raised" if claim.state == "failed" else "did not complete before its lease ended"
        _log.warning(
            "%s: skipped %r (at-most-once): an earlier attempt %s, and may have run the effect "
            "(eventID=%s SequenceNumber=%s)",
            name,
            key,
            how,
            record.event_id,
            record.sequence_number,
            extra={"once_key": key, "event_id": record.event_id},
        )


def _describe(exc: BaseException) -> str:
    """``Type: message``, bounded, even for an exception whose ``str`` fails."""
    try:
        text = str(exc)
    except Exception:
        text = short_repr(exc)
    return f"{type(exc).__name__}: {short_repr(text) if len(text) > 300 else text}"


def _located(reason: str, record: StreamRecord[Any]) -> DataError:
    return DataError(reason, event_id=record.event_id, sequence_number=record.sequence_number)


_DEFAULTS: dict[str, object] = {
    "key": None,
    "guarantee": "at-least-once",
    "namespace": None,
    "lease": None,
    "keep": DEFAULT_KEEP,
    "release_on": (),
    "retry": Retry(),
}
