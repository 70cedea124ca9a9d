"""Score totals: the gaming tutorial's single-table aggregation, exact and loop-free.

One table, ``$GAME_TABLE``, keys PK (S) and SK (S). A score item is ``PK=SCORE#<scoreId>,
SK=USER#<userId>, Score (N)``; the handler keeps ``PK=USER#<userId>, SK=TOTAL, TotalScore (N)``
= the exact sum of Score over the user's current score items. The exactly-once watermarks ride
in the TOTAL items (``_w...`` attributes: one per score item changed in the last day), so each
batch writes one item per user it touches. ``$PARALLELIZATION_FACTOR`` (default 1) is the event
source mapping's ParallelizationFactor.

The handler's own writes (the TOTAL items) land in the same stream. The event source mapping's
:data:`FILTER_CRITERIA` drops them, and the handler ignores them too (its ``where`` only admits
``SCORE#`` items), so they are never counted and never cause a write: no loop, even when
delivered without the filter.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from ddbstream import BatchResponse
from ddbstream.aggregate import Aggregator, DynamoDBSink, Sum

SCORE_PREFIX = "SCORE#"
USER_PREFIX = "USER#"

#: The event source mapping's FilterCriteria: only score items reach the function.
FILTER_CRITERIA: dict[str, Any] = {
    "Filters": [{"Pattern": '{"dynamodb":{"Keys":{"PK":{"S":[{"prefix":"SCORE#"}]}}}}'}]
}


def game_table() -> str:
    return os.environ.get("GAME_TABLE", "GameScores")


def parallelization_factor() -> str:
    return os.environ.get("PARALLELIZATION_FACTOR", "1")


# --8<-- [start:aggregator]
def is_score(image: Any) -> bool:
    """True for score items (the only ones counted); TOTAL items are not."""
    pk, sk = image.get("PK"), image.get("SK")
    return (
        isinstance(pk, str)
        and pk.startswith(SCORE_PREFIX)
        and isinstance(sk, str)
        and sk.startswith(USER_PREFIX)
    )


def user_of(image: Any) -> str:
    return str(image["SK"]).removeprefix(USER_PREFIX)


def total_key(user: str) -> dict[str, str]:
    return {"PK": f"{USER_PREFIX}{user}", "SK": "TOTAL"}


@lru_cache(maxsize=8)
def _aggregator(table: str, factor: str, endpoint: str | None) -> Aggregator:
    return Aggregator(
        where=is_score,
        group_by=user_of,
        measures={"TotalScore": Sum("Score")},
        sink=DynamoDBSink(table, key=total_key),
        parallelization_factor=int(factor),
        filter=FILTER_CRITERIA,
    )


def aggregator() -> Aggregator:
    """The aggregator for the current environment (table, ParallelizationFactor, endpoint)."""
    return _aggregator(game_table(), parallelization_factor(), os.environ.get("AWS_ENDPOINT_URL"))


def handler(event: dict[str, Any], context: Any) -> BatchResponse:
    """Lambda entry point: returns the partial batch response (ReportBatchItemFailures)."""
    return aggregator().handle(event, context)


# --8<-- [end:aggregator]


def create_tables(dynamodb_client: Any) -> None:
    """Create ``$GAME_TABLE`` (with its stream and TTL) unless it exists; an existing table is
    left alone."""
    name = game_table()
    try:
        dynamodb_client.describe_table(TableName=name)
        return
    except dynamodb_client.exceptions.ResourceNotFoundException:
        pass
    dynamodb_client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb_client.get_waiter("table_exists").wait(TableName=name)
    dynamodb_client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )


def run_demo(dynamodb_client: Any, streams_client: Any) -> str:
    """Run the tutorial on a fresh table: the local runner reads the real stream and invokes
    :func:`handler` as Lambda's event source mapping would. Returns the printed tables."""
    import tempfile

    from ddbstream.runner import EventSourceMapping, Runner

    name = game_table()
    try:
        dynamodb_client.delete_table(TableName=name)
        dynamodb_client.get_waiter("table_not_exists").wait(TableName=name)
    except dynamodb_client.exceptions.ResourceNotFoundException:
        pass
    create_tables(dynamodb_client)
    out: list[str] = []

    def step(title: str, checkpoint: str, *, filtered: bool = True) -> None:
        mapping = EventSourceMapping(
            filter_criteria=FILTER_CRITERIA if filtered else None,
            function_response_types=("ReportBatchItemFailures",),
        )
        runner = Runner(
            handler,
            table_name=name,
            mapping=mapping,
            dynamodb_client=dynamodb_client,
            streams_client=streams_client,
            checkpoint=checkpoint,
        )
        stats = runner.run(until_idle=True)
        out.append(
            f"-- {title}: the runner read {stats.records_read} stream records, "
            f"{stats.records_filtered} filtered out, {stats.invocations} invocation(s), "
            f"{stats.records_failed} failed"
        )
        out.append(_table(dynamodb_client))

    def score(score_id: str, user: str, points: int) -> None:
        item = {"PK": f"SCORE#{score_id}", "SK": f"USER#{user}", "Score": points}
        dynamodb_client.put_item(
            TableName=name,
            Item={k: ({"N": str(v)} if k == "Score" else {"S": v}) for k, v in item.items()},
        )

    with tempfile.TemporaryDirectory(prefix="ddbstream-demo-") as folder:
        resume = f"{folder}/checkpoints.sqlite3"
        score("1", "alice", 50)
        score("2", "alice", 30)
        score("3", "bob", 70)
        step("three scores", resume)
        score("2", "alice", 45)
        dynamodb_client.delete_item(
            TableName=name, Key={"PK": {"S": "SCORE#3"}, "SK": {"S": "USER#bob"}}
        )
        step("score 2 raised to 45, score 3 deleted", resume)
        step(
            "the whole stream again WITHOUT the filter (the handler's own writes come back)",
            ":memory:",
            filtered=False,
        )
    return "\n".join(out)


def _table(client: Any) -> str:
    rows = []
    for item in client.scan(TableName=game_table(), ConsistentRead=True)["Items"]:
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        value = item.get("Score", item.get("TotalScore", {})).get("N", "")
        rows.append(f"  {pk:<18} | {sk:<10} | {value}")
    header = f"  {'PK':<18} | {'SK':<10} | Score / TotalScore"
    return "\n".join([f"{game_table()}:", header, *sorted(rows)])
