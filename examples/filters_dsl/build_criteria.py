"""Build FilterCriteria from DSL expressions: descriptors, $or and negation are compiled for you."""

from ddbstream.filters import event_name, keys, new_image, ttl_delete

SHIPPED = (
    (event_name != "REMOVE")
    & keys("pk").begins_with("ORDER#")
    & ((new_image("status") == "SHIPPED") | (new_image("express") == True))  # noqa: E712
)
KEEP = SHIPPED | ttl_delete()
CRITERIA = KEEP.to_criteria()  # one filter: {"$or": [...]} is shorter than two


def handler(event, context):
    return {
        "FilterCriteria": CRITERIA.to_dict(),
        "delivered": [r["eventID"] for r in event["Records"] if KEEP.matches(r)],
    }
