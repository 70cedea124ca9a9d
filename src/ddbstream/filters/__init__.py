"""Lambda event filtering for DynamoDB streams: patterns, criteria, local matching, export.

``Filter.from_pattern(...)`` validates a FilterCriteria pattern with AWS's (event-ruler's) rules
and evaluates it locally with the same semantics; ``FilterCriteria`` is what an event source
mapping takes; the ``to_*`` functions render it for CloudFormation/SAM, CDK, Serverless and
Terraform. See docs/filters.md.
"""

from .._lazy import attach
from ._attribute import Attribute, canonical_number, keys, new_image, old_image
from ._compile import compile_filters
from ._criteria import Filter, FilterCriteria, to_criteria
from ._export import to_cdk, to_cloudformation, to_serverless, to_terraform
from ._expr import Expression, LocalPredicate, changed, where
from ._lint import Finding, lint
from ._record_fields import (
    RecordField,
    approximate_creation_time,
    event_name,
    size_bytes,
    ttl_delete,
)
from ._typed import TypedAttributes, typed

__all__ = [
    "Attribute",
    "Expression",
    "Filter",
    "FilterCriteria",
    "Finding",
    "LocalPredicate",
    "RecordField",
    "TypedAttributes",
    "approximate_creation_time",
    "canonical_number",
    "changed",
    "compile_filters",
    "event_name",
    "keys",
    "lint",
    "new_image",
    "old_image",
    "size_bytes",
    "to_cdk",
    "to_cloudformation",
    "to_criteria",
    "to_serverless",
    "to_terraform",
    "ttl_delete",
    "typed",
    "where",
]

__getattr__, __dir__ = attach(__name__, {}, eager=[globals()[_name] for _name in __all__])
