"""Read-modify-write storage of the measures ``ADD`` cannot keep (Min, Max, Latest, user
monoids): their new value depends on the stored one.

The DynamoDB sink combines the stored state with the batch's delta and writes the result on
condition that the stored value is still the one it combined with; if another writer got there
first, the write fails, DynamoDB returns the item as it is now, and the write is rebuilt from it.
The stored value comes from a :class:`Known` cache of the items this sink last saw (every write
returns its item), so nothing is read on the happy path; an item never seen is read first.

Storage: a Decimal state (Min, Max) is a number; :class:`~ddbstream.aggregate.Latest` stores its
plain value under the measure's name and its order under ``_latest_<name>`` (a bookkeeping name);
another state is its JSON ``dump`` in a string.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import Any

from .._aws import from_client, to_client
from .._codec import deserialize, serialize
from ._measures import Additive, Measure
from ._monoids import Latest
from ._request import Update

__all__ = ["Known", "is_register", "order_attribute", "read_state", "write_state"]

Item = Mapping[str, Any]


def is_register(measure: Measure[Any, Any]) -> bool:
    """True for measures kept by read-modify-write (no ``columns``)."""
    return not isinstance(measure, Additive)


def order_attribute(name: str) -> str:
    """Where :class:`Latest` keeps the order of its stored value."""
    return f"_latest_{name}"


def read_state(name: str, measure: Measure[Any, Any], item: Item) -> Any:
    """The state of ``measure`` stored in ``item`` (``None`` when absent)."""
    if isinstance(measure, Latest):
        order = item.get(order_attribute(name))
        if order is None:
            return None
        order_value, sequence = json.loads(order["S"])
        return (deserialize(order_value), int(sequence), deserialize(from_client(item[name])))
    value = item.get(name)
    if value is None:
        return None
    if "N" in value:
        return deserialize(value)
    return measure.load(json.loads(value["S"]))


def _encode(measure: Measure[Any, Any], state: Any) -> dict[str, Any]:
    if isinstance(state, Decimal):
        return {"N": str(state)}
    return {"S": json.dumps(measure.dump(state), separators=(",", ":"), sort_keys=True)}


def write_state(
    update: Update, name: str, measure: Measure[Any, Any], item: Item, delta: Any
) -> None:
    """Add to ``update`` the SET of ``measure``'s combined state and the condition that the
    stored one is still what ``item`` holds (nothing when the state does not change).

    Raises:
        EncodeError: the new value cannot be stored in DynamoDB.
        AggregationError: combining the states failed (e.g. a number beyond 38 digits).
    """
    old = read_state(name, measure, item)
    new = measure.combine(measure.zero() if old is None else old, delta)
    if old is not None and new == old:
        return
    watched = order_attribute(name) if isinstance(measure, Latest) else name
    placeholder = update.name(watched)
    if isinstance(measure, Latest):
        order = json.dumps([serialize(new[0]), str(new[1])], separators=(",", ":"))
        update.set(name, to_client(serialize(new[2])))
        update.set(watched, {"S": order})
    else:
        update.set(name, _encode(measure, new))
    if watched in item:
        update.condition(f"{placeholder} = {update.value(item[watched])}", 1)
    else:
        update.condition(f"attribute_not_exists({placeholder})", 1)


class Known:
    """The last version of each item this sink saw, bounded (least recently used goes)."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: OrderedDict[Hashable, Item] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, target: Hashable) -> Item | None:
        with self._lock:
            item = self._items.get(target)
            if item is not None:
                self._items.move_to_end(target)
            return item

    def put(self, target: Hashable, item: Item) -> None:
        with self._lock:
            self._items[target] = item
            self._items.move_to_end(target)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def forget(self, target: Hashable) -> None:
        with self._lock:
            self._items.pop(target, None)
