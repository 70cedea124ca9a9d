"""The product API of the tutorial: it writes the Products table, and that is all it does.

Logging each change is not the API's job: a function triggered by the table's stream does it
(handler.py), so no change can be forgotten, whichever code path made it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

PRODUCTS_TABLE = "Products"


def add_product(
    dynamodb: Any, product_id: str, name: str, price: Decimal, *, table: str = PRODUCTS_TABLE
) -> None:
    """Create a product (PutItem)."""
    dynamodb.put_item(
        TableName=table,
        Item={"ProductId": {"S": product_id}, "Name": {"S": name}, "Price": {"N": str(price)}},
    )


def change_price(
    dynamodb: Any, product_id: str, price: Decimal, *, table: str = PRODUCTS_TABLE
) -> None:
    """Set a product's price (UpdateItem)."""
    dynamodb.update_item(
        TableName=table,
        Key={"ProductId": {"S": product_id}},
        UpdateExpression="SET Price = :p",
        ExpressionAttributeValues={":p": {"N": str(price)}},
    )


def remove_product(dynamodb: Any, product_id: str, *, table: str = PRODUCTS_TABLE) -> None:
    """Delete a product (DeleteItem)."""
    dynamodb.delete_item(TableName=table, Key={"ProductId": {"S": product_id}})


def create_table(dynamodb: Any, *, table: str = PRODUCTS_TABLE) -> str:
    """Create the Products table with a NEW_AND_OLD_IMAGES stream; return the stream ARN."""
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "ProductId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "ProductId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"])
