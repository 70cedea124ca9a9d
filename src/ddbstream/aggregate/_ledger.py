"""Where the exactly-once watermarks live in DynamoDB: a strategy is a value.

* :class:`GroupLedger` (the default): in the group items themselves, as ``_w<lane>``
  attributes. One conditional ``UpdateItem`` per touched group per batch, no transaction, no
  ledger item; a watermark goes 25 hours after its last write, in a later write of its group.
* :class:`Ledger`: in ledger items, one per (source item, group), written in the same
  ``TransactWriteItems`` as the group's update (2 WCU per KB and per action), with a TTL.
* ``ledger=None``: none; every redelivery counts again (at-least-once).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field

from .._errors import UsageError

__all__ = ["SEQ_DIGITS", "GroupLedger", "Ledger"]

#: Width of a sequence number stored as a zero-padded string in a ledger item.
SEQ_DIGITS = 40
#: The most watermarks one group write carries: three operators each (``NOT #w >= :f`` and its
#: ``AND``), 100 of them fill DynamoDB's 300-operator condition limit.
MAX_ITEMS = 100


@dataclass(frozen=True, slots=True)
class GroupLedger:
    """Watermarks kept in the group items: one write per touched group, nothing else.

    Each group write adds the batch's coalesced delta and sets, for every source item whose
    records touch the group, the watermark ``_w<lane>`` on condition that it is below the
    item's first record in the batch. A watermark is about 32 bytes (an 18-character name, the
    SequenceNumber and the hour it was written); it is deleted by a later write of its group
    once it is 25 hours old (every record it covers is then beyond the stream's 24-hour
    retention). So a group item holds the watermarks of the source items that touched it in
    the last day: right for an invoice, costly for a group that thousands of items touch every
    day (prefer :class:`Ledger` there: the group item stays small).

    Args:
        max_items: most source items per group write, at most 100 (DynamoDB's 300-operator
            limit, 3 per watermark). The sink also keeps two operators for each read-modify-write
            measure (Min, Max, Latest) and for each of the (at most 20) stale watermarks a write
            deletes, so a write carries at most 87 items, fewer with such measures.

    Example:
        >>> GroupLedger()
        GroupLedger()
    """

    max_items: int = MAX_ITEMS
    prefix: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.max_items, bool) or not 1 <= self.max_items <= MAX_ITEMS:
            raise UsageError(
                f"max_items={self.max_items!r} must be from 1 to {MAX_ITEMS}: DynamoDB refuses a "
                f"condition with more than 300 operators, and each item's watermark costs 3"
            )
        if self.prefix is not None:
            warnings.warn(
                "GroupLedger(prefix=...) is deprecated and ignored: watermarks are named _w<lane>",
                DeprecationWarning,
                stacklevel=3,
            )

    def __repr__(self) -> str:
        if self.max_items == MAX_ITEMS:
            return "GroupLedger()"
        return f"GroupLedger(max_items={self.max_items})"


@dataclass(frozen=True, slots=True)
class Ledger:
    """Watermarks kept in ledger items, one per (source item, group), written in the same
    transaction as the group's update.

    Args:
        table: the ledger table; ``None`` keeps ledger items in the sink's own table (keyed
            with ``prefix``, so scans can tell them apart).
        partition_key: its partition key attribute (``None``: ``"pk"`` for a separate table,
            the sink's partition key for the sink's table).
        sort_key: its sort key attribute, if the table has one (value: ``sort_value``).
        prefix: prepended to the hashed identity in the partition key.
        namespace: mixed into the hashed identity (aggregators are already told apart by what
            they store; this separates aggregators that store the same way on purpose).
        sequence_attribute: the attribute holding the 40-digit zero-padded SequenceNumber.
        ttl_attribute: the TTL attribute (turn TTL on for it).
        retention_seconds: TTL of a ledger item after its last update (default 48 h; stream
            records live 24 h, so no redelivery can outlive its watermark).

    Example:
        >>> Ledger(table="InvoiceTotalLedger")
        Ledger(table='InvoiceTotalLedger')
    """

    table: str | None = None
    partition_key: str | None = None
    sort_key: str | None = None
    prefix: str = "LEDGER#"
    sort_value: str = "WATERMARK"
    namespace: str | None = None
    sequence_attribute: str = "seq"
    ttl_attribute: str = "expires"
    retention_seconds: int = 48 * 3600

    def __repr__(self) -> str:
        defaults = Ledger.__dataclass_fields__
        parts = [
            f"{name}={getattr(self, name)!r}"
            for name in defaults
            if getattr(self, name) != defaults[name].default
        ]
        return f"Ledger({', '.join(parts)})"

    def key_value(self, lane: str, target: str) -> str:
        """The ledger item's partition key value for a lane on a target (canonical key text)."""
        text = f"{self.namespace or ''}|{lane}|{target}"
        return self.prefix + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
