"""Which records would Lambda deliver? Evaluate FilterCriteria locally, with AWS's semantics."""

from ddbstream.filters import Filter, FilterCriteria

SHIPPED = Filter.from_pattern(
    """{
      "eventName": ["INSERT", "MODIFY"],
      "dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]},
                                "total": {"N": [{"prefix": "1"}]}}}
    }"""
)
TTL_DELETES = Filter.from_pattern(
    {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
)
CRITERIA = FilterCriteria([SHIPPED, TTL_DELETES])


def handler(event, context):
    report = {}
    for record in event["Records"]:
        report[record["eventID"]] = CRITERIA.explain(record) or "delivered"
    return report
