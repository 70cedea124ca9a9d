"""Writes with the watermarks inside the group items: one ``UpdateItem`` per write.

For a write of group ``g`` the request ``ADD``\\s the additive measures' deltas, sets the
read-modify-write measures (on condition that the stored value is the one combined with),
stamps ``updated_attribute``, and for each lane sets ``_w<lane>`` on condition
``NOT _w<lane> >= :first``. It also deletes, on condition that they are unchanged, watermarks
of other lanes written more than 25 hours ago (at most as many as the operator budget leaves),
so a group item never holds more than about a day of watermarks. Every write returns the item
(``ALL_NEW``; a failed condition returns it as it was, ``ALL_OLD``), which is how the sink knows
stored values and stale watermarks without reading. With ``marks=False`` (``ledger=None``) no
watermark is written or checked.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._aws import aws_error, call, transient
from .._codec import EncodeError, serialize
from .._errors import AggregationError, TransientError, UsageError
from .._marks import MARK_PREFIX, first_value, is_mark_name, mark_value, read_mark, stale
from .._settle import APPLIED, Outcome, Rejected, Retried, Stale, Write
from ._answers import rejection
from ._measures import Additive
from ._request import MAX_OPERATORS, Update
from ._rmw import Known, is_register, write_state
from ._sink import GroupDelta, GroupRejected
from ._spec import AggregateSpec

__all__ = ["MAX_PRUNED", "InlineWriter", "key_text", "read_missing", "stamp", "stored_marks"]

Item = Mapping[str, Any]
KeyOf = Callable[[Hashable], dict[str, Any]]
#: The most stale watermarks one write deletes (each costs two operators).
MAX_PRUNED = 20
#: A group item holding more watermarks than this is worth a warning (once per group).
CROWDED = 1000
log = logging.getLogger("ddbstream.aggregate")


def stamp(now: _dt.datetime) -> str:
    """ISO-8601 UTC with milliseconds, as ``updated_attribute`` holds it."""
    return (
        now.astimezone(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _hour(now: _dt.datetime) -> int:
    return int(now.timestamp()) // 3600


def read_missing(
    spec: AggregateSpec[Any],
    writes: Sequence[Write[GroupDelta]],
    *,
    table: str,
    key_of: KeyOf,
    client: Any,
    known: Known,
) -> dict[Hashable, Outcome]:
    """Read the items of groups whose read-modify-write measures change and that the sink has
    not seen (consistent ``BatchGetItem``, 100 keys a request); returns the outcomes of writes
    that cannot go on (a key the group cannot have, or a read to try again)."""
    outcomes: dict[Hashable, Outcome] = {}
    registers = {n for n, m in spec.measures.items() if is_register(m)}
    targets: dict[str, Hashable] = {}
    keys: list[dict[str, Any]] = []
    for write in writes:
        if not registers & set(write.effect) or known.get(write.target) is not None:
            continue
        try:
            key = key_of(write.target)
        except GroupRejected as exc:
            outcomes[write.target] = Rejected(exc)
            continue
        if key_text(key) not in targets:
            targets[key_text(key)] = write.target
            keys.append(key)
    names = list(keys[0]) if keys else []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {
            table: {"Keys": keys[start : start + 100], "ConsistentRead": True}
        }
        while request:
            try:
                page = call(f"reading {table}", client.batch_get_item, RequestItems=request)
            except TransientError as exc:
                for target in targets.values():
                    outcomes.setdefault(target, Retried(exc))
                return outcomes
            for item in page.get("Responses", {}).get(table, []):
                target = targets.get(key_text({n: item[n] for n in names}))
                if target is not None:
                    known.put(target, item)
            request = page.get("UnprocessedKeys") or {}
    for target in targets.values():
        if known.get(target) is None:
            known.put(target, {})  # no such item yet
    return outcomes


def key_text(key: Mapping[str, Any]) -> str:
    """A canonical text of a key in the client's form."""
    return repr(sorted(key.items()))


class InlineWriter:
    """Sends writes as ``UpdateItem`` requests with their watermarks (see the module)."""

    def __init__(
        self,
        *,
        table: str,
        key_of: KeyOf,
        client: Callable[[], Any],
        known: Known,
        updated_attribute: str | None,
        clock: Callable[[], _dt.datetime],
        marks: bool,
        concurrency: int,
    ) -> None:
        self.table, self.key_of, self.client, self.known = table, key_of, client, known
        self.updated_attribute, self.clock, self.marks = updated_attribute, clock, marks
        self.concurrency = concurrency
        self._warned: set[Hashable] = set()

    def commit(
        self, spec: AggregateSpec[Any], writes: Sequence[Write[GroupDelta]]
    ) -> list[Outcome]:
        client = self.client()
        early = read_missing(
            spec, writes, table=self.table, key_of=self.key_of, client=client, known=self.known
        )
        now = self.clock()

        def one(write: Write[GroupDelta]) -> Outcome:
            return early.get(write.target) or self._send(spec, write, now, client)

        if self.concurrency == 1 or len(writes) < 2:
            return [one(w) for w in writes]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(writes))) as pool:
            futures = [pool.submit(one, w) for w in writes]
        return [f.result() for f in futures]

    def build(
        self, spec: AggregateSpec[Any], write: Write[GroupDelta], now: _dt.datetime
    ) -> Update:
        """The request for ``write`` (without key and table).

        Raises:
            GroupRejected: a value the group cannot hold.
        """
        item = self.known.get(write.target) or {}
        update = Update()
        try:
            for name, state in write.effect.items():
                measure = spec.measures[name]
                if isinstance(measure, Additive):
                    for column, part in zip(
                        measure.columns(name), measure.split(state), strict=True
                    ):
                        if part:
                            update.add(column, serialize(part))
                else:
                    write_state(update, name, measure, item, state)
        except (EncodeError, AggregationError) as exc:
            raise GroupRejected(exc.reason, path=exc.path) from exc
        if self.marks:
            hour = _hour(now)
            lanes = set()
            for mark in write.marks:
                attribute = MARK_PREFIX + mark.lane
                lanes.add(attribute)
                first = update.value({"B": first_value(mark.first)})
                update.condition(f"NOT {update.name(attribute)} >= {first}", 2)
                update.set(attribute, {"B": mark_value(sequence=mark.last, hour=hour)})
            _prune(update, item, lanes, hour)
        if self.updated_attribute is not None and (
            not update.empty or (self.marks and write.marks)
        ):
            update.set(self.updated_attribute, {"S": stamp(now)})
        if not update.fits():
            raise UsageError(
                f"a write to {self.table} does not fit DynamoDB's expression limits "
                f"({update.operators} operators): lower GroupLedger(max_items=...)"
            )
        return update

    def _send(
        self, spec: AggregateSpec[Any], write: Write[GroupDelta], now: _dt.datetime, client: Any
    ) -> Outcome:
        try:
            key = self.key_of(write.target)
            update = self.build(spec, write, now)
        except GroupRejected as exc:
            return Rejected(exc)
        if update.empty:
            return APPLIED
        params = update.params(self.table, key)
        params["ReturnValues"] = "ALL_NEW"
        params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            response = client.update_item(**params)
        except Exception as exc:
            return self._failed(write, exc, client, key)
        item = response.get("Attributes") or {}
        self.known.put(write.target, item)
        if len(item) > CROWDED and write.target not in self._warned:
            self._warned.add(write.target)
            log.warning(
                "the item of group %r in %s holds %d watermarks (source items written in the "
                "last 25 hours): each write costs about %d WCU; with that many source items per "
                "group and day, Ledger(...) costs less (2 WCU per source item and write)",
                write.target,
                self.table,
                len(item),
                len(item) * 32 // 1024 + 1,
            )
        return APPLIED

    def _failed(
        self, write: Write[GroupDelta], exc: Exception, client: Any, key: dict[str, Any]
    ) -> Outcome:
        error = aws_error(exc)
        if error is None:
            raise exc
        if error.kind == "condition":
            item = error.response.get("Item")
            if item is None:  # an old DynamoDB that does not return it: read it
                try:
                    answer = call(
                        f"reading {self.table}",
                        client.get_item,
                        TableName=self.table,
                        Key=key,
                        ConsistentRead=True,
                    )
                except TransientError as again:
                    return Retried(again)
                item = answer.get("Item") or {}
            self.known.put(write.target, item)
            return Stale(stored_marks(write, item))
        if error.retryable:
            return Retried(transient(error))
        rejected = rejection(error)
        if rejected is not None:
            return Rejected(rejected)
        raise UsageError(
            f"DynamoDB refused a write to {self.table}: {error.code}: {error.message}"
        ) from exc


def stored_marks(write: Write[GroupDelta], item: Item) -> dict[str, int]:
    """The watermarks in ``item`` at or past the first record of the write's lanes."""
    stored: dict[str, int] = {}
    for mark in write.marks:
        value = item.get(MARK_PREFIX + mark.lane, {}).get("B")
        read = read_mark(bytes(value)) if isinstance(value, (bytes, bytearray)) else None
        if read is not None and read[0] >= mark.first:
            stored[mark.lane] = read[0]
    return stored


def _prune(update: Update, item: Item, written: set[str], hour: int) -> None:
    pruned = 0
    for name, value in item.items():
        if pruned >= MAX_PRUNED or update.operators + 3 > MAX_OPERATORS:
            return
        if name in written or not is_mark_name(name):
            continue
        raw = value.get("B") if isinstance(value, Mapping) else None
        if not isinstance(raw, (bytes, bytearray)):
            continue
        read = read_mark(bytes(raw))
        if read is not None and stale(read[1], hour):
            update.remove(name)
            update.condition(f"{update.name(name)} = {update.value({'B': bytes(raw)})}", 1)
            pruned += 1
