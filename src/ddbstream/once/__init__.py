"""Side effects once per change, under Lambda's at-least-once delivery.

Two tools, for two kinds of effect:

* :class:`Once` decorates a route function: each call claims a key (by default the record's
  item and SequenceNumber; or your own, such as ``welcome#<UserId>``) in a :class:`Store`
  before the effect and completes it after, with a lease that ends so that a crashed attempt
  is taken over, and a declared guarantee: ``"at-least-once"`` or ``"at-most-once"``.
* :class:`DynamoDBOutbox` records a message once per id for a separate sender: the effect in
  the handler is then a conditional put, which a redelivery cannot repeat.

Both keep the Router's order and stop-at-first-failure: a record whose effect another attempt
holds fails (:class:`~ddbstream.EffectInProgress`), and Lambda delivers it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach
from ._guard import Guarantee, Once
from ._outbox import MemoryOutbox, Outbox
from ._store import Claim, ClaimState, Entry, MemoryStore, Store

if TYPE_CHECKING:
    from ._dynamodb import DynamoDBStore
    from ._outbox import DynamoDBOutbox

__all__ = [
    "Claim",
    "ClaimState",
    "DynamoDBOutbox",
    "DynamoDBStore",
    "Entry",
    "Guarantee",
    "MemoryOutbox",
    "MemoryStore",
    "Once",
    "Outbox",
    "Store",
]

__getattr__, __dir__ = attach(
    __name__,
    {"DynamoDBStore": "._dynamodb", "DynamoDBOutbox": "._outbox"},
    eager=[Claim, Entry, MemoryOutbox, MemoryStore, Once, Outbox, Store],
)
