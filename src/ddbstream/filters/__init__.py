"""Lambda event filtering for DynamoDB streams: patterns, criteria, local matching, export.

``Filter.from_pattern(...)`` validates a FilterCriteria pattern with AWS's (event-ruler's) rules
and evaluates it locally with the same semantics; ``FilterCriteria`` is what an event source
mapping takes; the ``to_*`` functions render it for CloudFormation/SAM, CDK, Serverless and
Terraform. See docs/filters.md.
"""

from ._criteria import Filter, FilterCriteria
from ._export import to_cdk, to_cloudformation, to_serverless, to_terraform

# --- DSL and lint (ddbstream.filters._dsl / _compile / _lint) re-exports go here ---

__all__ = [
    "Filter",
    "FilterCriteria",
    "to_cdk",
    "to_cloudformation",
    "to_serverless",
    "to_terraform",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("ddbstream.filters."):
        _obj.__module__ = "ddbstream.filters"
del _name, _obj
