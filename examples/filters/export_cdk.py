from aws_cdk import aws_lambda as lambda_

filters = [
    lambda_.FilterCriteria.filter(
        {
            "eventName": ["INSERT"],
            "dynamodb": {
                "NewImage": {
                    "status": {
                        "S": ["SHIPPED"],
                    },
                },
            },
        }
    ),
    lambda_.FilterCriteria.filter(
        {
            "userIdentity": {
                "type": ["Service"],
                "principalId": ["dynamodb.amazonaws.com"],
            },
        }
    ),
]
