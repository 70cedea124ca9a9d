"""Local predicates: what Lambda cannot filter runs in the handler, and the types keep it apart."""

from ddbstream import StreamEvent
from ddbstream.filters import changed, event_name, new_image, where

# Lambda filters the part it can express...
PREFILTER = (event_name == "MODIFY") & (new_image("status") == "SHIPPED")
CRITERIA = PREFILTER.to_criteria()
# ...and the handler checks the rest: a LocalPredicate has .matches() but no .to_criteria().
NEWLY_SHIPPED = PREFILTER & changed("status") & where(lambda r: r.new_image["qty"] > 1)


def handler(event, context):
    records = StreamEvent.from_lambda(event).records
    return {
        "Filters": len(CRITERIA.to_dict()["Filters"]),
        "handled": [r.event_id for r in records if NEWLY_SHIPPED.matches(r)],
    }
