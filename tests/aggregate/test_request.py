"""ddbstream.aggregate._request: an UpdateItem knows its cost against DynamoDB's limits (the
same limits are checked against DynamoDB Local in test_dynamodb.py)."""

from __future__ import annotations

from ddbstream.aggregate._request import MAX_EXPRESSION_BYTES, MAX_OPERATORS, Update


def _with_marks(count: int) -> Update:
    update = Update()
    for i in range(count):
        name = update.name(f"_w{i:016}")
        update.condition(f"NOT {name} >= {update.value({'B': b'x'})}", 2)
        update.set(f"_w{i:016}", {"B": b"y"})
    return update


def test_operators_count_comparisons_logic_and_the_joining_ands() -> None:
    assert _with_marks(1).operators == 2
    assert _with_marks(100).operators == 299
    assert _with_marks(100).fits()
    assert _with_marks(101).operators == MAX_OPERATORS + 2
    assert not _with_marks(101).fits()


def test_expression_sizes_are_bounded() -> None:
    update = Update()
    for i in range(400):
        update.set(f"attribute{i}", {"N": "1"})
    update_expression, condition = update.expressions()
    assert len(update_expression) > MAX_EXPRESSION_BYTES
    assert condition is None
    assert not update.fits()


def test_placeholders_are_shared_per_attribute_and_params_are_complete() -> None:
    update = Update()
    update.add("Total", {"N": "5"})
    update.set("Total2", {"N": "1"})
    update.remove("old")
    update.condition(f"attribute_not_exists({update.name('Total')})", 1)
    assert update.expressions() == (
        "ADD #n0 :v0 SET #n1 = :v1 REMOVE #n2",
        "attribute_not_exists(#n0)",
    )
    params = update.params("T", {"pk": {"S": "a"}})
    assert params["ExpressionAttributeNames"] == {"#n0": "Total", "#n1": "Total2", "#n2": "old"}
    assert params["ConditionExpression"] == "attribute_not_exists(#n0)"
    assert not update.empty
    assert Update().empty
