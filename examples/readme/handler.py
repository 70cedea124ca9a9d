from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ddbstream import BatchResponse, Router, StreamRecord
from ddbstream.filters import event_name, new_image

router = Router()  # in order, stops at the first failure, reports it to Lambda


class Order(BaseModel):
    pk: str
    status: str
    total: Decimal


@router.route((event_name == "MODIFY") & (new_image("status") == "SHIPPED"), model=Order)
def email_customer(record: StreamRecord[Order]) -> None:
    if (order := record.new) is not None:  # a validated Order; total is an exact Decimal
        print(f"email {order.pk}: shipped, total {order.total}")


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    return router.handle(event, context)  # {"batchItemFailures": [...]}
