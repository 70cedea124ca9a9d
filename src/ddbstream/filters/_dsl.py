"""The filter DSL: descriptor-aware builders and operators over a DynamoDB stream record.

An :class:`Expression` is something Lambda FilterCriteria can evaluate; a
:class:`LocalPredicate` (``changed()``, ``where()``) is something only Python can. Both have
``matches(record)``; only expressions compile (``to_patterns()`` / ``to_criteria()``).

The record shape the builders address::

    {"eventName": "MODIFY", "userIdentity": {"type": ..., "principalId": ...},
     "dynamodb": {"ApproximateCreationDateTime": 1718000000.0, "SizeBytes": 180,
                  "Keys": {"pk": {"S": "..."}}, "NewImage": {...}, "OldImage": {...}}}

This module gathers the DSL's public names from where they live:

- ``_atoms``: the conditions on one leaf path (atoms) and the leaf paths (``Field``);
- ``_expr``: ``Expression`` and ``LocalPredicate``, their combinators, ``changed``, ``where``;
- ``_attribute``: ``Attribute`` (``new_image``, ``old_image``, ``keys``), ``canonical_number``;
- ``_record_fields``: ``RecordField`` (``event_name``, ``size_bytes``,
  ``approximate_creation_time``) and ``ttl_delete``.
"""

from __future__ import annotations

from ._attribute import Attribute, canonical_number, keys, new_image, old_image
from ._expr import Expression, LocalPredicate, changed, where
from ._record_fields import (
    RecordField,
    approximate_creation_time,
    event_name,
    size_bytes,
    ttl_delete,
)

__all__ = [
    "Attribute",
    "Expression",
    "LocalPredicate",
    "RecordField",
    "approximate_creation_time",
    "canonical_number",
    "changed",
    "event_name",
    "keys",
    "new_image",
    "old_image",
    "size_bytes",
    "ttl_delete",
    "where",
]
