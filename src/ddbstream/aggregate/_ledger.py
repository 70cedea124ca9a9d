"""Where the exactly-once watermarks live: ledger items (:class:`Ledger`) or attributes of the
group items (:class:`GroupLedger`). Both store a source item's last applied SequenceNumber as a
40-digit zero-padded string: sequence numbers have up to 40 digits, a DynamoDB number holds 38.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ._delta import ItemId

__all__ = ["SEQ_DIGITS", "GroupLedger", "Ledger"]

#: Width of a stored sequence number.
SEQ_DIGITS = 40


@dataclass(frozen=True, slots=True)
class Ledger:
    """Where the per-item watermarks of the exactly-once strategy live.

    Args:
        table: the ledger table; ``None`` keeps ledger items in the sink's own table (keyed
            with ``prefix``, so handlers and scans can tell them apart).
        partition_key: its partition key attribute (``None``: ``"pk"`` for a separate table,
            the sink's partition key for the sink's table).
        sort_key: its sort key attribute, if the table has one (value: ``sort_value``).
        prefix: prepended to the hashed item identity in the partition key.
        namespace: separates aggregators sharing a ledger (default: the sink's table name).
        retention_seconds: TTL of a watermark after its last update (default 48 h; stream
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

    def key(self, item: ItemId, *, namespace: str, partition_key: str) -> dict[str, Any]:
        """The ledger item's key for a source item (hashed: keys can be up to 3 KB)."""
        text = json.dumps([self.namespace or namespace, item[0], item[1]], separators=(",", ":"))
        key = {partition_key: {"S": self.prefix + hashlib.sha256(text.encode()).hexdigest()}}
        if self.sort_key is not None:
            key[self.sort_key] = {"S": self.sort_value}
        return key


@dataclass(frozen=True, slots=True)
class GroupLedger:
    """Per-item watermarks kept as attributes of the group items themselves.

    Each group write carries, for every source item whose records touch that group, the
    condition ``attribute_not_exists(wm_<item>) OR wm_<item> < :first`` and sets it to the item's
    last sequence number. No ledger items, one action per touched group (not per item): the
    cheapest exact strategy. The cost: a group item keeps one ~80-byte attribute per source item
    that ever touched it (there is no TTL for attributes), so it suits bounded groups (an
    invoice's transactions), not unbounded ones (a user's all-time scores, 400 KB item limit).

    Args:
        prefix: attribute name prefix of the watermarks.
        max_items: source items per group write in one transaction (keeps each condition
            expression under DynamoDB's 4 KB).

    Example:
        >>> GroupLedger()
        GroupLedger()
    """

    prefix: str = "wm_"
    max_items: int = 80

    def __repr__(self) -> str:
        parts = []
        if self.prefix != "wm_":
            parts.append(f"prefix={self.prefix!r}")
        if self.max_items != 80:
            parts.append(f"max_items={self.max_items!r}")
        return f"GroupLedger({', '.join(parts)})"

    def attribute(self, item: ItemId) -> str:
        """The watermark attribute of a source item."""
        text = json.dumps([item[0], item[1]], separators=(",", ":"))
        return self.prefix + hashlib.sha256(text.encode()).hexdigest()[:32]
