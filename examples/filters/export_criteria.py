"""One FilterCriteria, rendered for each infrastructure tool."""

from ddbstream.filters import (
    FilterCriteria,
    to_cdk,
    to_cloudformation,
    to_serverless,
    to_terraform,
)

CRITERIA = FilterCriteria(
    [
        '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]}}}}',
        {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}},
    ]
)

SAM_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  ShippedOrders:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: LATEST
"""

EXPORTS = {
    "export_sam_template.yaml": SAM_TEMPLATE + to_cloudformation(CRITERIA, indent=12),
    "export_serverless.yml": to_serverless(CRITERIA),
    "export_cdk.py": to_cdk(CRITERIA),
    "export_terraform.tf": to_terraform(CRITERIA),
}
