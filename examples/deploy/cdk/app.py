"""An Orders table whose stream drives a ddbstream handler (Python 3.13, arm64), in CDK."""

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class OrdersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        orders = dynamodb.TableV2(
            self,
            "Orders",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
        # ddbstream and pydantic, built by the layer recipe into build/layer/python/.
        ddbstream_layer = lambda_.LayerVersion(
            self,
            "DdbstreamLayer",
            code=lambda_.Code.from_asset("build/layer"),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64],
        )
        order_events = lambda_.Function(
            self,
            "OrderEvents",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset("build/function"),
            layers=[ddbstream_layer],
            memory_size=512,
            timeout=cdk.Duration.seconds(60),
        )
        failures = sqs.Queue(self, "OrderEventFailures", retention_period=cdk.Duration.days(14))
        order_events.add_event_source(
            sources.DynamoEventSource(
                orders,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=100,
                max_batching_window=cdk.Duration.seconds(1),
                # The Router's partial batch response: Lambda retries from the failed record.
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=10,
                max_record_age=cdk.Duration.hours(6),
                on_failure=sources.SqsDlq(failures),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {"eventName": lambda_.FilterRule.or_("INSERT", "REMOVE")}
                    )
                ],
            )
        )


app = cdk.App()
OrdersStack(app, "OrdersStack")
app.synth()
