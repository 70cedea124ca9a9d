"""Redrive on DynamoDB Local, end to end: a poison record, its on-failure record, the fixed
handler, the redrive, and totals that stay exact however often records are redelivered.

The handler is exactly-once on its own: each record's delta goes to the totals in one
transaction with a marker keyed by its eventID, so a record applied before changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ddbstream import UsageError
from ddbstream.runner import (
    EventSourceMapping,
    FailureFolder,
    FailureRecord,
    RedriveReport,
    redrive,
    run,
)

from ._support import ARN, FakeStreams

FAST = {"poll_interval": 0.02, "retry_delay": 0.0}
QUICK = {"retry_delay": 0.0}


class Totals:
    """An exactly-once totals handler: amount per customer, deltas of INSERT/MODIFY/REMOVE."""

    def __init__(self, client: Any, totals: str, applied: str, *, strict: bool) -> None:
        self.client, self.totals, self.applied, self.strict = client, totals, applied, strict

    def amount(self, image: dict[str, Any] | None) -> Decimal:
        if not image:
            return Decimal(0)
        value = image["amount"]
        if "N" in value:
            return Decimal(value["N"])
        if self.strict:
            raise TypeError(f"amount {value} is not a number")
        return Decimal(value["S"].replace(",", "."))  # the fix: amounts typed as text

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            ddb = record["dynamodb"]
            image = ddb.get("NewImage") or ddb["OldImage"]
            delta = self.amount(ddb.get("NewImage")) - self.amount(ddb.get("OldImage"))
            try:
                self.client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self.applied,
                                "Item": {"pk": {"S": record["eventID"]}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {
                            "Update": {
                                "TableName": self.totals,
                                "Key": {"pk": {"S": image["customer"]["S"]}},
                                "UpdateExpression": "ADD #total :d",
                                "ExpressionAttributeNames": {"#total": "total"},
                                "ExpressionAttributeValues": {":d": {"N": str(delta)}},
                            }
                        },
                    ]
                )
            except self.client.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons") or [{}]
                if reasons[0].get("Code") != "ConditionalCheckFailed":
                    raise
                # applied before: nothing to do

    def read(self) -> dict[str, Decimal]:
        items = self.client.scan(TableName=self.totals)["Items"]
        return {i["pk"]["S"]: Decimal(i["total"]["N"]) for i in items}


@pytest.fixture
def orders(make_table: Any, dynamodb_client: Any) -> dict[str, Any]:
    source = make_table()
    totals = make_table(stream_view_type=None)
    applied = make_table(stream_view_type=None)

    def put(pk: str, customer: str, amount: str | int) -> None:
        kind = "S" if isinstance(amount, str) else "N"
        dynamodb_client.put_item(
            TableName=source.name,
            Item={"pk": {"S": pk}, "customer": {"S": customer}, "amount": {kind: str(amount)}},
        )

    return {
        "table": source,
        "put": put,
        "buggy": Totals(dynamodb_client, totals.name, applied.name, strict=True),
        "fixed": Totals(dynamodb_client, totals.name, applied.name, strict=False),
    }


def test_poison_on_failure_fix_redrive_totals_exact(
    orders: Any, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    put, table = orders["put"], orders["table"]
    put("o1", "ann", 100)
    put("o2", "ann", "2,5")  # the poison: the amount typed as text
    put("o3", "bob", 7)
    put("o1", "ann", 120)  # a MODIFY after the poison: +20
    folder, lines = tmp_path / "s3", tmp_path / "failed.jsonl"
    stats = run(
        orders["buggy"],
        table_name=table.name,
        endpoint_url=dynamodb_endpoint,
        mapping=EventSourceMapping(bisect_batch_on_function_error=True, maximum_retry_attempts=1),
        on_failure=FailureFolder(folder),
        until_idle=True,
        **FAST,
    )
    assert (stats.records_succeeded, stats.records_failed) == (3, 1)
    assert orders["buggy"].read() == {"ann": Decimal(120), "bob": Decimal(7)}
    (failure,) = FailureRecord.read(folder)
    assert failure.batch_size == 1
    assert failure.function_error == "Unhandled"
    assert failure.condition == "RetryAttemptsExhausted"
    poison = failure.records or []
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in poison] == ["o2"]
    lines.write_text(json.dumps(failure.to_dict()) + "\n")  # the SQS/SNS shape: no records

    report = redrive(orders["fixed"], folder, endpoint_url=dynamodb_endpoint, **QUICK)
    assert report.ok
    (result,) = report.results
    assert (result.source, result.reprocessed) == ("payload", (failure.start_sequence_number,))
    exact = {"ann": Decimal("122.5"), "bob": Decimal(7)}
    assert orders["fixed"].read() == exact

    again = redrive(orders["fixed"], lines, endpoint_url=dynamodb_endpoint, **QUICK)
    assert [r.source for r in again.results] == ["stream"]
    assert again.reprocessed == 1
    assert orders["fixed"].read() == exact  # redelivered, applied before: nothing changes


def test_records_that_fail_again_are_reported_and_sent_on(
    orders: Any, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    orders["put"]("o1", "ann", "bad")
    failures: list[dict[str, Any]] = []
    run(
        orders["buggy"],
        table_name=orders["table"].name,
        endpoint_url=dynamodb_endpoint,
        mapping=EventSourceMapping(maximum_retry_attempts=0),
        on_failure=failures.append,
        until_idle=True,
        **FAST,
    )
    (body,) = failures
    again: list[dict[str, Any]] = []
    report = redrive(
        orders["buggy"],
        [FailureRecord.parse(body)],
        endpoint_url=dynamodb_endpoint,
        on_failure=again.append,
        **QUICK,
    )
    assert not report.ok
    assert (report.failed_again, report.reprocessed) == (1, 0)
    assert report.results[0].failed_again == (body["DDBStreamBatchInfo"]["startSequenceNumber"],)
    (new,) = report.failures
    assert new.approximate_invoke_count == 3  # the default: 2 retries
    assert again == [new.to_dict() | {"timestamp": again[0]["timestamp"]}]


def test_skip_superseded_leaves_out_records_whose_item_changed_later(
    make_table: Any, put: Any, dynamodb_endpoint: str
) -> None:
    table = make_table()
    put(table.name, "a", "b", v="old")
    put(table.name, "a", v="new")  # supersedes a's first record
    put(table.name, "c", v="x")
    failures: list[dict[str, Any]] = []
    run(
        lambda event, context: 1 / 0,
        table_name=table.name,
        endpoint_url=dynamodb_endpoint,
        mapping=EventSourceMapping(maximum_retry_attempts=0, batch_size=2),
        on_failure=failures.append,
        until_idle=True,
        **FAST,
    )
    first = FailureRecord.parse(failures[0])  # a(old), b(old)
    seen: list[str] = []

    def project(event: dict[str, Any], context: Any) -> None:
        seen.extend(
            f"{r['dynamodb']['Keys']['pk']['S']}={r['dynamodb']['NewImage']['v']['S']}"
            for r in event["Records"]
        )

    report = redrive(project, first, endpoint_url=dynamodb_endpoint, skip_superseded=True, **QUICK)
    assert seen == ["b=old"]
    (result,) = report.results
    assert (len(result.superseded), len(result.reprocessed)) == (1, 1)
    criteria = {"Filters": [{"Pattern": json.dumps({"dynamodb": {"Keys": {"pk": {"S": ["b"]}}}})}]}
    filtered = redrive(
        project,
        first,
        endpoint_url=dynamodb_endpoint,
        mapping=EventSourceMapping(filter_criteria=criteria, maximum_retry_attempts=1),
        skip_superseded=True,
        **QUICK,
    )
    assert (filtered.filtered, filtered.superseded, filtered.reprocessed) == (1, 0, 1)


def test_a_gone_stream_is_a_clear_error_but_a_payload_still_redrives(
    make_table: Any, put: Any, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    table = make_table()
    put(table.name, "a")
    run(
        lambda event, context: 1 / 0,
        table_name=table.name,
        endpoint_url=dynamodb_endpoint,
        mapping=EventSourceMapping(maximum_retry_attempts=0),
        on_failure=FailureFolder(tmp_path),
        until_idle=True,
        **FAST,
    )
    (failure,) = FailureRecord.read(tmp_path)
    gone_arn = failure.stream_arn.replace(f"table/{table.name}/", "table/no-such-table/")
    gone = FailureRecord.parse(
        failure.to_dict(with_payload=True)
        | {"DDBStreamBatchInfo": failure.to_dict()["DDBStreamBatchInfo"] | {"streamArn": gone_arn}}
    )
    seen: list[Any] = []
    report = redrive(lambda e, c: seen.append(e), gone, endpoint_url=dynamodb_endpoint, **QUICK)
    assert (report.reprocessed, len(seen)) == (1, 1)
    with pytest.raises(UsageError, match=r"cannot be read.*S3 on-failure record's payload"):
        redrive(print, gone, endpoint_url=dynamodb_endpoint, from_stream=True, **QUICK)


def test_a_trimmed_range_is_a_clear_error() -> None:
    fake = FakeStreams({"s1": ["1", "2", "3"]})
    fake.trim_before["s1"] = 2  # records 1 and 2 are older than 24 hours
    failure = FailureRecord("s1", "1", "2", 2, ARN)
    with pytest.raises(UsageError, match=r"SequenceNumber 1 on were trimmed \(DynamoDB keeps"):
        redrive(print, failure, streams_client=fake)


def test_settings_a_redrive_cannot_honour() -> None:
    failure = FailureRecord("s1", "1", "2", 2, ARN)
    with pytest.raises(UsageError, match="finite retries"):
        redrive(print, failure, mapping=EventSourceMapping())
    with pytest.raises(UsageError, match="tumbling-window"):
        redrive(
            print,
            failure,
            mapping=EventSourceMapping(tumbling_window_in_seconds=60, maximum_retry_attempts=1),
        )
    assert RedriveReport(results=()).ok
