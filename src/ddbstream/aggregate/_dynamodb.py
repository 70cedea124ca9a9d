"""The DynamoDB sink: one item per group, exact under redelivery, at the least capacity.

What it writes per batch depends on where the watermarks live (``ledger=``, see ``_ledger``):
with :class:`GroupLedger` (the default) one conditional ``UpdateItem`` per touched group
(``_inline``); with :class:`Ledger` transactions of the groups' updates and their ledger items
(``_transact``); with ``None`` plain ``UpdateItem``\\s and no watermark (at-least-once). boto3 is
imported on first use; every request goes through ``_aws.call`` (the one botocore boundary).
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._aws import call, from_client, lazy_dynamodb, to_client
from .._codec import EncodeError, deserialize, serialize
from .._errors import TransientError, UsageError
from .._settle import Outcome, Retry, Write
from ._inline import MAX_PRUNED, InlineWriter
from ._ledger import GroupLedger, Ledger
from ._measures import Additive
from ._request import MAX_OPERATORS
from ._rmw import Known, is_register, read_state
from ._sink import GroupDelta, GroupRejected
from ._transact import LedgerWriter

if TYPE_CHECKING:
    from ._spec import AggregateSpec

__all__ = ["DynamoDBSink"]

_DEFAULT_RETRY = Retry()
_DEFAULT_LEDGER = GroupLedger()
_NO_MARKS_LANES = 10_000


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class DynamoDBSink:
    """Aggregates in a DynamoDB table, one item per group, exact under redelivery.

    Args:
        table: the target table.
        key: the partition key attribute name (the group is its value), or a function
            ``group -> {attribute: value}`` giving the whole key.
        updated_attribute: an attribute set to the ISO-8601 UTC time of each update (the
            invoice tutorial's ``UpdateDate``), or None.
        ledger: where the watermarks live: :class:`GroupLedger` (default: in the group items,
            one conditional write per touched group per batch), :class:`Ledger` (ledger items
            written in a transaction with the group's update), or ``None`` (at-least-once:
            every redelivery counts again).
        client: a boto3 DynamoDB client (default: ``boto3.client("dynamodb")`` on first use,
            which honours ``AWS_ENDPOINT_URL``, with botocore's client-side parameter validation
            off: the sink builds every request itself and DynamoDB validates them anyway).
        max_actions: actions per transaction, with :class:`Ledger` (DynamoDB allows 100).
        retry: backoff for throttling, conflicts and lost answers.
        concurrency: writes of one batch sent at once (threads; default 1). Writes of distinct
            groups never conflict; it pays where each request waits on the network.
        clock: the current time (``updated_attribute``, watermark ages, ledger TTL).

    Bookkeeping attributes start with ``_``: the watermarks (``_w<lane>``, Binary) and the
    order of a :class:`Latest` value (``_latest_<name>``).

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
        ledger: GroupLedger | Ledger | None = _DEFAULT_LEDGER,
        client: Any = None,
        max_actions: int = 100,
        retry: Retry = _DEFAULT_RETRY,
        concurrency: int = 1,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        if not isinstance(table, str) or not table:
            raise UsageError(f"table must be a table name, got {table!r}")
        if not (isinstance(key, str) and key) and not callable(key):
            raise UsageError(f"key must be an attribute name or a function, got {key!r}")
        if not isinstance(ledger, (GroupLedger, Ledger)) and ledger is not None:
            raise UsageError(f"ledger must be GroupLedger(), Ledger(...) or None, got {ledger!r}")
        if not 2 <= max_actions <= 100:
            raise UsageError(f"{max_actions=} must be between 2 and 100 (DynamoDB's limit)")
        if concurrency < 1:
            raise UsageError(f"{concurrency=} must be at least 1")
        self.table = table
        self.key = key
        self.updated_attribute = updated_attribute
        self.ledger = ledger
        self.concurrency = concurrency
        self._client = client
        self._max_actions = max_actions
        self._retry = retry
        self._clock = clock or _now
        self._key_names: tuple[str, ...] | None = None
        self._known = Known()
        group = InlineWriter(
            table=table,
            key_of=self._key_of,
            client=lambda: self.client,
            known=self._known,
            updated_attribute=updated_attribute,
            clock=self._clock,
            marks=isinstance(ledger, GroupLedger),
            concurrency=concurrency,
        )
        self._writer: InlineWriter | LedgerWriter = group
        if isinstance(ledger, Ledger):
            self._writer = LedgerWriter(
                group=group,
                ledger=ledger,
                place=self._ledger_place,
                max_actions=max_actions,
                concurrency=concurrency,
            )

    def __repr__(self) -> str:
        key = repr(self.key) if isinstance(self.key, str) else getattr(self.key, "__name__", "?")
        parts = [repr(self.table), f"key={key}"]
        if self.updated_attribute is not None:
            parts.append(f"updated_attribute={self.updated_attribute!r}")
        if self.ledger != _DEFAULT_LEDGER:
            parts.append(f"ledger={self.ledger!r}")
        if self._max_actions != 100:
            parts.append(f"max_actions={self._max_actions!r}")
        if self.concurrency != 1:
            parts.append(f"concurrency={self.concurrency!r}")
        return f"DynamoDBSink({', '.join(parts)})"

    # -- Sink protocol ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The table name."""
        return self.table

    @property
    def exactly_once(self) -> bool:
        return self.ledger is not None

    def lanes_per_write(self, spec: AggregateSpec[Any]) -> int:
        """With :class:`GroupLedger`, ``max_items`` bounded by what the operator limit leaves
        after the read-modify-write measures' conditions; with :class:`Ledger`, one action
        per lane beside the group's."""
        if isinstance(self.ledger, GroupLedger):
            registers = sum(1 for m in spec.measures.values() if is_register(m))
            spare = MAX_OPERATORS + 1 - 2 * registers - 2 * MAX_PRUNED
            return max(1, min(self.ledger.max_items, spare // 3))
        if isinstance(self.ledger, Ledger):
            return self._max_actions - 1
        return _NO_MARKS_LANES

    @property
    def retry(self) -> Retry:
        return self._retry

    @property
    def client(self) -> Any:
        """The boto3 client (created on first use)."""
        return lazy_dynamodb(self)

    def commit(
        self, spec: AggregateSpec[Any], writes: Sequence[Write[GroupDelta]]
    ) -> Sequence[Outcome]:
        """Send ``writes``; one outcome per write (see ``_inline`` and ``_transact``)."""
        return self._writer.commit(spec, writes)

    def snapshot(self, spec: AggregateSpec[Any]) -> dict[Hashable, dict[str, Any]]:
        """Scan the table: group -> measure name -> value (ledger items are skipped)."""
        out: dict[Hashable, dict[str, Any]] = {}
        for item in self._scan():
            if self._is_ledger(item):
                continue
            values = {}
            for name, measure in spec.measures.items():
                if isinstance(measure, Additive):
                    parts = tuple(
                        Decimal(item[c]["N"]) if c in item else Decimal(0)
                        for c in measure.columns(name)
                    )
                    state = measure.join(parts)
                else:
                    state = read_state(name, measure, item)
                    state = measure.zero() if state is None else state
                if state != measure.zero():
                    values[name] = measure.result(state)
            if values:
                out[self._group_of(item)] = values
        return out

    # -- keys ---------------------------------------------------------------------------------

    def _key_of(self, group: Hashable) -> dict[str, Any]:
        try:
            key = {self.key: group} if isinstance(self.key, str) else dict(self.key(group))
            return {name: to_client(serialize(value)) for name, value in key.items()}
        except EncodeError as exc:
            raise GroupRejected(f"the key of group {str(group)[:80]!r}: {exc}") from exc
        except Exception as exc:
            raise GroupRejected(
                f"key({str(group)[:80]!r}) raised {type(exc).__name__}: {str(exc)[:200]}"
            ) from exc

    def _group_of(self, item: Mapping[str, Any]) -> Hashable:
        if isinstance(self.key, str):
            return deserialize(from_client(item[self.key]))  # type: ignore[no-any-return]
        return tuple(deserialize(from_client(item[name])) for name in self._table_key_names())

    def _ledger_place(self) -> tuple[str, str]:
        ledger = self.ledger
        assert isinstance(ledger, Ledger)
        if ledger.table is not None:
            return ledger.table, ledger.partition_key or "pk"
        partition = ledger.partition_key or (
            self.key if isinstance(self.key, str) else self._table_key_names()[0]
        )
        return self.table, partition

    def _is_ledger(self, item: Mapping[str, Any]) -> bool:
        if not isinstance(self.ledger, Ledger) or self.ledger.table is not None:
            return False
        value = item.get(self._ledger_place()[1], {}).get("S")
        return isinstance(value, str) and value.startswith(self.ledger.prefix)

    # -- reads, retried like writes -------------------------------------------------------------

    def _read(self, what: str, fn: Callable[..., Any], **params: Any) -> Any:
        for attempt in range(self._retry.attempts):
            try:
                return call(what, fn, **params)
            except TransientError:
                if attempt + 1 >= self._retry.attempts:
                    raise
                time.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _table_key_names(self) -> tuple[str, ...]:
        if self._key_names is None:
            table = self._read(
                f"describing {self.table}", self.client.describe_table, TableName=self.table
            )["Table"]
            schema = sorted(table["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
            self._key_names = tuple(k["AttributeName"] for k in schema)
        return self._key_names

    def _scan(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self._read(f"scanning {self.table}", self.client.scan, **params)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
