"""The DynamoDB sink: coalesced ``ADD`` updates plus per-item watermarks in one transaction.

Each transaction (at most 100 actions) holds, for a set of source items, the coalesced deltas of
the groups they touch (``UpdateItem ... ADD Total :delta``) and one watermark per item in the
ledger (``SET seq = :last`` on condition ``attribute_not_exists(seq) OR seq < :first``). Sequence
numbers are stored as 40-digit zero-padded strings (they have up to 40 digits; a DynamoDB number
holds 38). Nothing is read on the happy path. When a condition fails, the cancellation reason
carries the stored watermark (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so the engine
drops what was already applied and retries. ``ClientRequestToken`` is derived from the content:
it makes a retry of a lost response idempotent for 10 minutes; the watermarks make it exact
forever after. boto3 is imported on first use; botocore errors are mapped here and nowhere else.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._aws import client
from .._codec import EncodeError, deserialize, serialize
from .._errors import UsageError
from ._delta import ItemId
from ._ledger import SEQ_DIGITS, GroupLedger, Ledger
from ._registers import decode, encode, is_register, key_id, read_items
from ._sink import GroupRejected, Retry, TransientError

if TYPE_CHECKING:
    from ._plan import Mark, Transaction
    from ._spec import Aggregator

__all__ = ["DynamoDBSink"]

_TRANSIENT = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
        "LimitExceededException",
    }
)
_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "InternalError"}
)
_DEFAULT_RETRY = Retry()
_NUMBER_ERROR = re.compile(r"precision|overflow|underflow|out of range|magnitude", re.IGNORECASE)
_DEFAULT_LEDGER = Ledger()


_CLIENT_LOCK = threading.Lock()


def _default_client() -> Any:
    """``boto3.client("dynamodb")`` without client-side parameter validation."""
    return client("dynamodb", validate=False)


def _iso(now: _dt.datetime) -> str:
    return (
        now.astimezone(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class DynamoDBSink:
    """Aggregates in a DynamoDB table, one item per group, exact under redelivery.

    Args:
        table: the target table.
        key: the partition key attribute name (the group key is its value), or a function
            ``group -> {attribute: value}`` giving the whole key.
        updated_attribute: an attribute set to the ISO-8601 UTC time of each update (the
            invoice tutorial's ``UpdateDate``), or None.
        ledger: where watermarks live: a :class:`Ledger` (default: ledger items in the sink's
            table), a :class:`GroupLedger` (attributes of the group items: fewest writes, for
            bounded groups), or ``None`` for plain at-least-once (every redelivery counts
            again).
        client: a boto3 DynamoDB client (default: ``boto3.client("dynamodb")`` on first use,
            which honours ``AWS_ENDPOINT_URL``, with botocore's client-side parameter validation
            off: the sink builds every request itself, DynamoDB validates them anyway, and
            botocore's check costs about 0.3 ms per transaction action).
        max_actions: actions per transaction (DynamoDB's limit is 100).
        retry: backoff for throttling, transaction conflicts and lost responses.
        concurrency: transactions of one batch committed at once (threads; default 1, one
            after the other). Only transactions that touch disjoint source items and groups run
            together, so they never conflict and each item's records still land in order. It
            pays where a request waits on the network (DynamoDB in AWS, batches of several
            transactions); on DynamoDB Local on a small machine it gains nothing.
        clock: returns the current time (for ``updated_attribute`` and the TTL).

    Additive measures (:class:`Sum`, :class:`Count`, :class:`Average`) are written with ``ADD``
    and need no read. Others (:class:`Min`, :class:`Max`, :class:`Latest`) are read, combined and
    written back on condition that the stored value did not change meanwhile.

    Example:
        >>> sink = DynamoDBSink("InvoiceTotal", key="InvoiceNumber", updated_attribute="UpdateDate")
        >>> sink
        DynamoDBSink('InvoiceTotal', key='InvoiceNumber', updated_attribute='UpdateDate')
    """

    def __init__(
        self,
        table: str,
        *,
        key: str | Callable[[Any], Mapping[str, Any]],
        updated_attribute: str | None = None,
        ledger: Ledger | GroupLedger | None = _DEFAULT_LEDGER,
        client: Any = None,
        max_actions: int = 100,
        retry: Retry = _DEFAULT_RETRY,
        concurrency: int = 1,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        if not 3 <= max_actions <= 100:
            raise UsageError(f"{max_actions=} must be between 3 and 100 (DynamoDB's limit)")
        if concurrency < 1:
            raise UsageError(f"{concurrency=} must be at least 1")
        self.concurrency = concurrency
        self.table = table
        self.key = key
        self.updated_attribute = updated_attribute
        self.ledger = ledger
        self._client = client
        self._max_actions = max_actions
        self._retry = retry
        self._clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))
        self._times: dict[str, _dt.datetime] = {}
        self._key_names: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        key = repr(self.key) if isinstance(self.key, str) else getattr(self.key, "__name__", "?")
        parts = [repr(self.table), f"key={key}"]
        if self.updated_attribute is not None:
            parts.append(f"updated_attribute={self.updated_attribute!r}")
        if self.ledger != Ledger():
            parts.append(f"ledger={self.ledger!r}")
        if self.concurrency != 1:
            parts.append(f"concurrency={self.concurrency!r}")
        return f"DynamoDBSink({', '.join(parts)})"

    # -- Sink protocol ------------------------------------------------------------------------

    @property
    def exactly_once(self) -> bool:
        return self.ledger is not None

    @property
    def max_actions(self) -> int:
        return self._max_actions

    @property
    def inline_marks(self) -> bool:
        """True when watermarks are attributes of the group items (:class:`GroupLedger`)."""
        return isinstance(self.ledger, GroupLedger)

    @property
    def max_items(self) -> int | None:
        """Source items per group write (only bounded for :class:`GroupLedger`)."""
        return self.ledger.max_items if isinstance(self.ledger, GroupLedger) else None

    @property
    def retry(self) -> Retry:
        return self._retry

    @property
    def client(self) -> Any:
        """The boto3 client (created on first use)."""
        if self._client is None:
            with _CLIENT_LOCK:  # chunks may be committed from several threads
                if self._client is None:
                    self._client = _default_client()
        return self._client

    def commit(self, spec: Aggregator, tx: Transaction) -> dict[ItemId, int]:
        """Write ``tx`` as one TransactWriteItems (or one UpdateItem when it has one action)."""
        # A retry of the same transaction reuses its time, so it is the same request (and the
        # same ClientRequestToken) for a few minutes; later ones are new requests.
        current = self._clock()
        now = self._times.get(tx.token, current)
        if (current - now).total_seconds() > 300 or len(self._times) > 1000:
            self._times.clear()
            now = current
        self._times[tx.token] = now
        inline = dict(tx.inline)
        stored = self._read_registers(spec, tx)
        actions: list[dict[str, Any]] = []
        owners: list[tuple[str, int]] = []  # ("g", group index) or ("m", mark index)
        for index, (group, delta) in enumerate(tx.groups):
            action = self._group_update(spec, group, delta, now, inline.get(group, ()), stored)
            if action["Update"]["UpdateExpression"]:  # empty: a Max that did not grow
                actions.append(action)
                owners.append(("g", index))
        for index, mark in enumerate(tx.marks):
            actions.append(self._mark_update(mark, now))
            owners.append(("m", index))
        if not actions:
            return {}
        return self._send(tx, actions, owners)

    def snapshot(self, spec: Aggregator) -> dict[Any, dict[str, Any]]:
        """Scan the table: group -> measure name -> value (ledger items are skipped)."""
        out: dict[Any, dict[str, Any]] = {}
        for raw in self._scan():
            item = {k: deserialize(v) for k, v in raw.items()}
            if self._is_ledger(item):
                continue
            values = {}
            for name, measure in spec.measures.items():
                if is_register(measure):
                    state = decode(measure, raw.get(name))
                    state = measure.zero() if state is None else state
                else:
                    parts = tuple(item.get(c, 0) for c in _columns(name, measure))
                    state = measure.join(parts)
                if state != measure.zero():
                    values[name] = measure.result(state)
            if values:
                out[self._group_of(item)] = values
        return out

    # -- requests -----------------------------------------------------------------------------

    def _read_registers(self, spec: Aggregator, tx: Transaction) -> dict[str, Mapping[str, Any]]:
        """Stored items of the groups whose non-additive measures this transaction changes."""
        names = {n for n, m in spec.measures.items() if is_register(m)}
        keys = [self._key_of(g) for g, d in tx.groups if names & set(d)]
        return read_items(self.client, self.table, keys) if keys else {}

    def _registers(
        self,
        spec: Aggregator,
        group: Any,
        delta: Mapping[str, Any],
        stored: Mapping[str, Mapping[str, Any]],
        names: dict[str, str],
        values: dict[str, Any],
    ) -> tuple[list[str], list[str]]:
        """SET clauses and conditions writing non-additive measures back (read-modify-write)."""
        sets: list[str] = []
        conditions: list[str] = []
        if not any(is_register(spec.measures[name]) for name in delta):
            return sets, conditions
        item = stored.get(key_id(self._key_of(group)), {})
        for i, (name, value) in enumerate(delta.items()):
            measure = spec.measures[name]
            if not is_register(measure):
                continue
            old = decode(measure, item.get(name))
            new = measure.combine(measure.zero() if old is None else old, value)
            if old is not None and new == old:
                continue
            names[f"#r{i}"] = name
            values[f":r{i}"] = encode(measure, new)
            sets.append(f"#r{i} = :r{i}")
            if old is None:
                conditions.append(f"attribute_not_exists(#r{i})")
            else:
                values[f":o{i}"] = item[name]
                conditions.append(f"#r{i} = :o{i}")
        return sets, conditions

    def _key_of(self, group: Any) -> dict[str, Any]:
        key = {self.key: group} if isinstance(self.key, str) else dict(self.key(group))
        try:
            return {name: serialize(value) for name, value in key.items()}
        except EncodeError as exc:
            raise GroupRejected(f"group key {group!r}: {exc}", groups=frozenset([group])) from exc

    def _group_update(
        self,
        spec: Aggregator,
        group: Any,
        delta: Mapping[str, Any],
        now: _dt.datetime,
        marks: tuple[Mark, ...] = (),
        stored: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds = self._adds(spec, group, delta, names, values)
        sets, conditions = self._registers(spec, group, delta, stored or {}, names, values)
        if self.updated_attribute is not None:
            names["#u"] = self.updated_attribute
            values[":u"] = {"S": _iso(now)}
            sets.append("#u = :u")
        if marks and isinstance(self.ledger, GroupLedger):
            for i, mark in enumerate(marks):
                names[f"#w{i}"] = self.ledger.attribute(mark.item)
                values[f":w{i}"] = {"S": f"{mark.last:0{SEQ_DIGITS}d}"}
                values[f":f{i}"] = {"S": f"{mark.first:0{SEQ_DIGITS}d}"}
                sets.append(f"#w{i} = :w{i}")
                conditions.append(f"(attribute_not_exists(#w{i}) OR #w{i} < :f{i})")
        expression = ("ADD " + ", ".join(adds) if adds else "") + (
            " SET " + ", ".join(sets) if sets else ""
        )
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": self._key_of(group),
            "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": names,
        }
        if values:
            update["ExpressionAttributeValues"] = values
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)
            update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": update}

    @staticmethod
    def _adds(
        spec: Aggregator,
        group: Any,
        delta: Mapping[str, Any],
        names: dict[str, str],
        values: dict[str, Any],
    ) -> list[str]:
        """``ADD`` clauses for a group's non-zero state parts (filling names and values)."""
        adds = []
        for name, state in delta.items():
            measure = spec.measures[name]
            if is_register(measure):
                continue
            for column, part in zip(_columns(name, measure), measure.split(state), strict=True):
                if part:
                    i = len(names)
                    names[f"#a{i}"] = column
                    try:
                        values[f":a{i}"] = serialize(part)
                    except EncodeError as exc:
                        raise GroupRejected(str(exc), groups=frozenset([group])) from exc
                    adds.append(f"#a{i} :a{i}")
        return adds

    def _ledger_table(self) -> tuple[str, str]:
        ledger = self.ledger
        assert isinstance(ledger, Ledger)
        if ledger.table is None:
            partition = ledger.partition_key or (
                self.key if isinstance(self.key, str) else self._table_key_names()[0]
            )
            return self.table, partition
        return ledger.table, ledger.partition_key or "pk"

    def _mark_update(self, mark: Mark, now: _dt.datetime) -> dict[str, Any]:
        ledger = self.ledger
        assert isinstance(ledger, Ledger)
        table, partition = self._ledger_table()
        expires = int(now.timestamp()) + ledger.retention_seconds
        return {
            "Update": {
                "TableName": table,
                "Key": ledger.key(mark.item, namespace=self.table, partition_key=partition),
                "UpdateExpression": "SET #s = :last, #t = :ttl",
                "ConditionExpression": "attribute_not_exists(#s) OR #s < :first",
                "ExpressionAttributeNames": {
                    "#s": ledger.sequence_attribute,
                    "#t": ledger.ttl_attribute,
                },
                "ExpressionAttributeValues": {
                    ":last": {"S": f"{mark.last:0{SEQ_DIGITS}d}"},
                    ":first": {"S": f"{mark.first:0{SEQ_DIGITS}d}"},
                    ":ttl": {"N": str(expires)},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _send(
        self, tx: Transaction, actions: list[dict[str, Any]], owners: list[tuple[str, int]]
    ) -> dict[ItemId, int]:
        client = self.client  # first: without boto3, a UsageError names ddbstream[aws]
        from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

        body = json.dumps(actions, sort_keys=True, separators=(",", ":"))
        token = hashlib.sha256(body.encode()).hexdigest()[:36]
        try:
            if len(actions) == 1:
                client.update_item(**actions[0]["Update"])
            else:
                client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
        except ClientError as exc:
            return self._client_error(tx, exc, owners)
        except ParamValidationError as exc:  # a user client's botocore refused the request
            raise UsageError(f"botocore refused the aggregate write: {exc}") from exc
        except BotoCoreError as exc:
            # Connection reset, read timeout...: the write may or may not have landed.
            raise TransientError(f"DynamoDB did not answer: {exc}") from exc
        return {}

    def _client_error(
        self, tx: Transaction, exc: Any, owners: list[tuple[str, int]]
    ) -> dict[ItemId, int]:
        response = exc.response
        code = response.get("Error", {}).get("Code", "")
        message = response.get("Error", {}).get("Message", "")
        groups = frozenset(g for g, _ in tx.groups)
        if code == "TransactionCanceledException":
            reasons = response.get("CancellationReasons") or []
            return self._cancelled(tx, reasons, message, owners)
        kind, index = owners[0]
        if code == "ConditionalCheckFailedException" and kind == "m":
            mark = tx.marks[index]
            return {mark.item: self._stored(mark, response.get("Item"))}
        if code == "ConditionalCheckFailedException" and tx.inline:
            conflicts = self._inline_conflicts(tx, index, response.get("Item"))
            if conflicts:
                return conflicts
        if code == "ConditionalCheckFailedException":
            raise TransientError("a stored Min/Max/Latest changed under us") from exc
        if code in _TRANSIENT:
            raise TransientError(f"{code}: {message}") from exc
        if code == "ValidationException" and _NUMBER_ERROR.search(message):
            raise GroupRejected(f"DynamoDB refused a total: {message}", groups=groups) from exc
        raise UsageError(f"DynamoDB rejected the aggregate write: {code}: {message}") from exc

    def _cancelled(
        self,
        tx: Transaction,
        reasons: list[Mapping[str, Any]],
        message: str,
        owners: list[tuple[str, int]],
    ) -> dict[ItemId, int]:
        conflicts: dict[ItemId, int] = {}
        rejected: set[Any] = set()
        codes = set()
        for (kind, index), reason in zip(owners, reasons, strict=False):
            code = reason.get("Code") or "None"
            codes.add(code)
            if code == "ConditionalCheckFailed" and kind == "m":
                mark = tx.marks[index]
                conflicts[mark.item] = self._stored(mark, reason.get("Item"))
            elif code == "ConditionalCheckFailed" and tx.inline:
                conflicts.update(self._inline_conflicts(tx, index, reason.get("Item")))
            elif code == "ValidationError" and kind == "g":
                rejected.add(tx.groups[index][0])
        if rejected:
            raise GroupRejected(f"DynamoDB refused a total: {message}", groups=frozenset(rejected))
        if conflicts:
            return conflicts
        raise TransientError(f"transaction cancelled ({', '.join(sorted(codes))}): {message}")

    def _inline_conflicts(
        self, tx: Transaction, index: int, item: Mapping[str, Any] | None
    ) -> dict[ItemId, int]:
        """The watermarks stored in a group item that blocked its condition."""
        ledger = self.ledger
        assert isinstance(ledger, GroupLedger)
        group, marks = tx.inline[index]
        if item is None:
            key = self._key_of(group)
            item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get(
                "Item"
            )
        conflicts: dict[ItemId, int] = {}
        for mark in marks:
            seq = (item or {}).get(ledger.attribute(mark.item), {}).get("S")
            if seq and int(seq) >= mark.first:
                conflicts[mark.item] = int(seq)
        return conflicts

    def _stored(self, mark: Mark, item: Mapping[str, Any] | None) -> int:
        """The stored watermark of a failed condition (read back if the reason lacks it)."""
        ledger = self.ledger
        assert isinstance(ledger, Ledger)
        if item is None:
            table, partition = self._ledger_table()
            key = ledger.key(mark.item, namespace=self.table, partition_key=partition)
            item = self.client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        seq = (item or {}).get(ledger.sequence_attribute, {}).get("S")
        if not seq:  # the condition failed, so it exists: read again on the next attempt
            raise TransientError("a watermark condition failed but the watermark is unreadable")
        return int(seq)

    # -- reading back -------------------------------------------------------------------------

    def _table_key_names(self) -> tuple[str, ...]:
        if self._key_names is None:
            table = self.client.describe_table(TableName=self.table)["Table"]
            schema = sorted(table["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
            self._key_names = tuple(k["AttributeName"] for k in schema)
        return self._key_names

    def _scan(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self.client.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _is_ledger(self, item: Mapping[str, Any]) -> bool:
        if not isinstance(self.ledger, Ledger) or self.ledger.table is not None:
            return False
        _, partition = self._ledger_table()
        value = item.get(partition)
        return isinstance(value, str) and value.startswith(self.ledger.prefix)

    def _group_of(self, item: Mapping[str, Any]) -> Any:
        if isinstance(self.key, str):
            return item[self.key]
        return tuple(item[name] for name in self._table_key_names())


def _columns(name: str, measure: Any) -> tuple[str, ...]:
    columns = getattr(measure, "columns", None)
    if columns is None:
        raise UsageError(
            f"measure {name!r} = {measure!r} cannot be kept by DynamoDBSink: only additive "
            "measures (Sum, Count, Average) are written with ADD; keep append-only ones in a "
            "MemorySink or a tumbling window"
        )
    return tuple(columns(name))
