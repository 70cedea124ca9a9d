from decimal import Decimal

from pydantic import BaseModel

from ddbstream import BatchResponse, LambdaContext, Router, StreamRecord
from ddbstream.filters import event_name, new_image

router = Router()  # in order, stops at the first failure, reports it to Lambda


class Order(BaseModel):
    pk: str
    status: str
    total: Decimal


@router.route((event_name == "MODIFY") & (new_image("status") == "SHIPPED"), model=Order)
def email_customer(record: StreamRecord[Order]) -> None:
    order = record.require_new()  # a validated Order, decoded exactly (total is a Decimal)
    print(f"email {order.pk}: shipped, total {order.total}")


def handler(event: dict[str, object], context: LambdaContext) -> BatchResponse:
    return router.handle(event, context)  # {"batchItemFailures": [...]}
