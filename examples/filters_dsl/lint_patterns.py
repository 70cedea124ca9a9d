"""Lint hand-written patterns: AWS accepts them, but some never match or drop records."""

from ddbstream.filters import lint

PATTERN = """{
  "dynamodb": {"NewImage": {"amount": {"N": [{"numeric": [">", 100]}]},
                            "status": ["SHIPPED"]}}
}"""


def handler(event, context):
    findings = lint(PATTERN, stream_view_type="NEW_AND_OLD_IMAGES")
    return [[f.severity, f.code, ".".join(map(str, f.path))] for f in findings]
