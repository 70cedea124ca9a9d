"""Writes with the watermarks in ledger items: ``TransactWriteItems`` (the ``Ledger`` strategy).

A write becomes the group's ``UpdateItem`` (additive ``ADD``\\s, read-modify-write ``SET``\\s on
condition, ``updated_attribute``) plus one ledger update per lane: ``SET seq = :last`` on
condition ``attribute_not_exists(seq) OR seq < :first``, where the ledger item's key hashes the
lane and the group's key and ``seq`` is the SequenceNumber as a 40-digit zero-padded string.
Writes are packed, whole, into transactions of at most ``max_actions`` actions; a transaction's
``ClientRequestToken`` is the digest of exactly its actions (a write sent again within 5 minutes
keeps its time stamps, so it is the same request and DynamoDB absorbs it), and two transactions
that differ in anything never share one.
When a transaction is cancelled, each write gets its own outcome from the cancellation reasons:
stale (a ledger item already past the write's first record), rejected (DynamoDB refused the
group's value), retried (a conflict) or deferred (cancelled by another write of the same
transaction, sent again in the next round).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._aws import aws_error, call, transient
from .._errors import TransientError, UsageError
from .._settle import APPLIED, DEFERRED, Outcome, Rejected, Retried, Stale, Write
from ._answers import rejection
from ._inline import InlineWriter, read_missing
from ._ledger import SEQ_DIGITS, Ledger
from ._sink import GroupDelta, GroupRejected
from ._spec import AggregateSpec

__all__ = ["LedgerWriter"]

KeyOf = Callable[[Hashable], dict[str, Any]]
_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "InternalError",
     "RequestLimitExceeded"}
)  # fmt: skip


def _bytes(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(type(value).__name__)


class _Planned:
    """A write as transaction actions: the group's update (if any) then one per lane."""

    __slots__ = ("actions", "group_action", "lanes", "write")

    def __init__(self, write: Write[GroupDelta]) -> None:
        self.write = write
        self.actions: list[dict[str, Any]] = []
        self.group_action = False
        self.lanes: list[str] = []


class LedgerWriter:
    """Sends writes as transactions with ledger items (see the module)."""

    def __init__(
        self,
        *,
        group: InlineWriter,
        ledger: Ledger,
        place: Callable[[], tuple[str, str]],
        max_actions: int,
        concurrency: int,
    ) -> None:
        self.group, self.ledger, self.place = group, ledger, place
        self.max_actions, self.concurrency = max_actions, concurrency
        self._times: dict[str, _dt.datetime] = {}
        self._alone: set[str] = set()  # writes to send in a transaction of their own
        self._lock = threading.Lock()

    def _time_of(self, write: Write[GroupDelta], now: _dt.datetime) -> _dt.datetime:
        """The time a write was first built, while recent: a write sent again (a lost answer)
        is then the very same request, which DynamoDB's ClientRequestToken absorbs."""
        with self._lock:
            first = self._times.get(write.token)
            if first is None or (now - first).total_seconds() > 300 or len(self._times) > 10_000:
                if len(self._times) > 10_000:
                    self._times.clear()
                first = self._times[write.token] = now
            return first

    def commit(
        self, spec: AggregateSpec[Any], writes: Sequence[Write[GroupDelta]]
    ) -> list[Outcome]:
        group = self.group
        client = group.client()
        outcomes: dict[int, Outcome] = {}
        early = read_missing(
            spec, writes, table=group.table, key_of=group.key_of, client=client, known=group.known
        )
        now = group.clock()
        planned: list[tuple[int, _Planned]] = []
        for position, write in enumerate(writes):
            if write.target in early:
                outcomes[position] = early[write.target]
                continue
            try:
                planned.append((position, self._plan(spec, write, self._time_of(write, now))))
            except GroupRejected as exc:
                outcomes[position] = Rejected(exc)
        batches = self._pack(planned)

        def send(batch: list[tuple[int, _Planned]]) -> dict[int, Outcome]:
            return self._send(batch, client)

        if self.concurrency == 1 or len(batches) < 2:
            results = [send(b) for b in batches]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
                futures = [pool.submit(send, b) for b in batches]
            results = [f.result() for f in futures]
        for result in results:
            outcomes.update(result)
        return [outcomes[i] for i in range(len(writes))]

    def _plan(
        self, spec: AggregateSpec[Any], write: Write[GroupDelta], now: _dt.datetime
    ) -> _Planned:
        group = self.group
        key = group.key_of(write.target)
        update = group.build(spec, Write(write.target, (), write.effect, write.token), now)
        planned = _Planned(write)
        if not update.empty:
            params = update.params(group.table, key)
            params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            planned.actions.append({"Update": params})
            planned.group_action = True
        table, partition = self.place()
        target = repr(sorted(key.items()))
        expires = int(now.timestamp()) + self.ledger.retention_seconds
        for mark in write.marks:
            ledger_key = {partition: {"S": self.ledger.key_value(mark.lane, target)}}
            if self.ledger.sort_key is not None:
                ledger_key[self.ledger.sort_key] = {"S": self.ledger.sort_value}
            planned.actions.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": ledger_key,
                        "UpdateExpression": "SET #s = :last, #t = :ttl",
                        "ConditionExpression": "attribute_not_exists(#s) OR #s < :first",
                        "ExpressionAttributeNames": {
                            "#s": self.ledger.sequence_attribute,
                            "#t": self.ledger.ttl_attribute,
                        },
                        "ExpressionAttributeValues": {
                            ":last": {"S": f"{mark.last:0{SEQ_DIGITS}d}"},
                            ":first": {"S": f"{mark.first:0{SEQ_DIGITS}d}"},
                            ":ttl": {"N": str(expires)},
                        },
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
            planned.lanes.append(mark.lane)
        return planned

    def _pack(self, planned: list[tuple[int, _Planned]]) -> list[list[tuple[int, _Planned]]]:
        batches: list[list[tuple[int, _Planned]]] = []
        size = 0
        for entry in planned:
            count = len(entry[1].actions)
            if entry[1].write.token in self._alone:
                batches.append([entry])
                size = self.max_actions
            elif batches and size + count <= self.max_actions:
                batches[-1].append(entry)
                size += count
            else:
                batches.append([entry])
                size = count
        return batches

    def _send(self, batch: list[tuple[int, _Planned]], client: Any) -> dict[int, Outcome]:
        actions = [a for _, p in batch for a in p.actions]
        if not actions:
            return {position: APPLIED for position, _ in batch}
        body = json.dumps(actions, sort_keys=True, separators=(",", ":"), default=_bytes)
        token = hashlib.sha256(body.encode()).hexdigest()[:36]
        try:
            if len(actions) == 1:
                update = dict(actions[0]["Update"])
                update.setdefault("ReturnValuesOnConditionCheckFailure", "ALL_OLD")
                client.update_item(**update)
            else:
                client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
        except Exception as exc:
            return self._failed(batch, exc, client)
        for _, planned in batch:
            self.group.known.forget(planned.write.target)  # not returned by a transaction
        return {position: APPLIED for position, _ in batch}

    def _failed(
        self, batch: list[tuple[int, _Planned]], exc: Exception, client: Any
    ) -> dict[int, Outcome]:
        error = aws_error(exc)
        if error is None:
            raise exc
        if error.kind in ("cancelled", "condition"):
            if error.kind == "cancelled":
                reasons = list(error.response.get("CancellationReasons") or [])
            else:
                reasons = [{"Code": "ConditionalCheckFailed", "Item": error.response.get("Item")}]
            return self._cancelled(batch, reasons, error.message, client)
        if error.retryable:
            return {position: Retried(transient(error)) for position, _ in batch}
        rejected = rejection(error)
        if rejected is not None and len(batch) == 1:
            return {batch[0][0]: Rejected(rejected)}
        if rejected is not None:  # which write? each goes alone in the next round
            with self._lock:
                self._alone.update(p.write.token for _, p in batch)
            return {position: DEFERRED for position, _ in batch}
        raise UsageError(f"DynamoDB refused a transaction: {error.code}: {error.message}") from exc

    def _cancelled(
        self,
        batch: list[tuple[int, _Planned]],
        reasons: list[Mapping[str, Any]],
        message: str,
        client: Any,
    ) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        offset = 0
        for position, planned in batch:
            mine = reasons[offset : offset + len(planned.actions)]
            offset += len(planned.actions)
            codes = [(r or {}).get("Code") or "None" for r in mine]
            lane_reasons = mine[1:] if planned.group_action else mine
            try:
                stored = {
                    lane: self._stored(planned, i, reason, client)
                    for i, (lane, reason) in enumerate(
                        zip(planned.lanes, lane_reasons, strict=False)
                    )
                    if (reason or {}).get("Code") == "ConditionalCheckFailed"
                }
            except TransientError as exc:
                outcomes[position] = Retried(exc)
                continue
            if stored:
                outcomes[position] = Stale(stored)
            elif planned.group_action and codes[0] == "ValidationError":
                outcomes[position] = Rejected(GroupRejected(f"DynamoDB refused a total: {message}"))
            elif planned.group_action and codes[0] == "ConditionalCheckFailed":
                item = (mine[0] or {}).get("Item")
                if item is None:
                    self.group.known.forget(planned.write.target)
                else:
                    self.group.known.put(planned.write.target, item)
                outcomes[position] = Stale({})
            elif any(code in _TRANSIENT_REASONS for code in codes):
                outcomes[position] = Retried(TransientError(f"transaction cancelled: {message}"))
            else:
                outcomes[position] = DEFERRED
        return outcomes

    def _stored(self, planned: _Planned, index: int, reason: Mapping[str, Any], client: Any) -> int:
        item = reason.get("Item")
        if item is None:
            action = planned.actions[index + (1 if planned.group_action else 0)]["Update"]
            answer = call(
                "reading a ledger item",
                client.get_item,
                TableName=action["TableName"],
                Key=action["Key"],
                ConsistentRead=True,
            )
            item = answer.get("Item") or {}
        value = item.get(self.ledger.sequence_attribute, {}).get("S")
        if not value:
            raise TransientError("a ledger condition failed but the ledger item is unreadable")
        return int(value)
