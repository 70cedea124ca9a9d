"""Non-additive measures in DynamoDB: read, combine, write back on condition.

``ADD`` can keep sums and counts, but not a Min, a Max or a Latest: their new value depends on
the stored one. For those the DynamoDB sink reads the touched group items (one consistent
``BatchGetItem`` per transaction), combines the stored state with the batch's delta, and writes
the result with the condition that the stored value is still the one it read. If another writer
got there first, the transaction is cancelled and retried with a fresh read. Decimal states are
stored as numbers; other states as their JSON ``dump`` in a string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from .._codec import deserialize

__all__ = ["decode", "encode", "is_register", "read_items"]


def is_register(measure: Any) -> bool:
    """True for measures ``ADD`` cannot keep (no ``columns``): Min, Max, Latest, user monoids."""
    return getattr(measure, "columns", None) is None


def encode(measure: Any, state: Any) -> dict[str, Any]:
    """The AttributeValue a register state is stored as."""
    if isinstance(state, Decimal):
        return {"N": str(state)}
    return {"S": json.dumps(measure.dump(state), separators=(",", ":"), sort_keys=True)}


def decode(measure: Any, value: Mapping[str, Any] | None) -> Any:
    """The state a stored AttributeValue holds (``None`` when absent)."""
    if value is None:
        return None
    if "N" in value:
        return deserialize(value)
    return measure.load(json.loads(value["S"]))


def read_items(
    client: Any, table: str, keys: Iterable[Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """Consistent reads of group items by key; result keyed by the key's canonical JSON."""
    pending = [dict(k) for k in keys]
    found: dict[str, Mapping[str, Any]] = {}
    for start in range(0, len(pending), 100):
        request: dict[str, Any] = {
            table: {"Keys": pending[start : start + 100], "ConsistentRead": True}
        }
        while request:
            page = client.batch_get_item(RequestItems=request)
            for item in page.get("Responses", {}).get(table, []):
                found[key_id({n: item[n] for n in pending[0]})] = item
            request = page.get("UnprocessedKeys") or {}
    return found


def key_id(key: Mapping[str, Any]) -> str:
    """A canonical text of a key (descriptors)."""
    return json.dumps(key, sort_keys=True, separators=(",", ":"))
