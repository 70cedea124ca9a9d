"""examples/invoice_totals and examples/score_totals on DynamoDB Local: the fixed contracts
(handler, FILTER_CRITERIA, create_tables, env names, PARALLELIZATION_FACTOR, template.yaml),
exact totals from the real stream under redelivery and injected faults, exact totals through
delivery schedules (ParallelizationFactor 1, and 2 or 3 with lanes delivered concurrently), and
no self-counting or loop in the single table."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from _delivery import Crash
from ddbstream.filters import FilterCriteria
from ddbstream.testing import read_stream

from ._faults import Faults

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    path = EXAMPLES / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}_{uuid.uuid4().hex}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drop(client: Any, *names: str) -> None:
    for name in names:
        try:
            client.delete_table(TableName=name)
        except client.exceptions.ResourceNotFoundException:
            continue
        client.get_waiter("table_not_exists").wait(TableName=name)


@pytest.fixture
def invoice(dynamodb_env: Any, dynamodb_client: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setenv("INVOICE_TOTAL_TABLE", f"InvoiceTotal-{suffix}")
    monkeypatch.setenv("INVOICE_LEDGER_TABLE", f"InvoiceTotalLedger-{suffix}")
    module = _load("invoice_totals")
    _drop(dynamodb_client, module.SOURCE_TABLE)
    module.create_tables(dynamodb_client)
    yield module
    _drop(dynamodb_client, module.SOURCE_TABLE, module.total_table(), module.ledger_table())


@pytest.fixture
def game(dynamodb_env: Any, dynamodb_client: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("GAME_TABLE", f"Game-{uuid.uuid4().hex[:8]}")
    module = _load("score_totals")
    module.create_tables(dynamodb_client)
    yield module
    _drop(dynamodb_client, module.game_table())


def _put_transaction(client: Any, invoice: str, txn: str, amount: str) -> None:
    client.put_item(
        TableName="InvoiceTransactions",
        Item={
            "InvoiceNumber": {"S": invoice},
            "TransactionId": {"S": txn},
            "Amount": {"N": amount},
            "InvoiceDate": {"S": "2024-06-10"},
        },
    )


def _expected_invoice_totals(client: Any) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for item in client.scan(TableName="InvoiceTransactions", ConsistentRead=True)["Items"]:
        number = item["InvoiceNumber"]["S"]
        totals[number] = totals.get(number, Decimal(0)) + Decimal(item["Amount"]["N"])
    return totals


def _invoice_totals(module: Any, client: Any) -> dict[str, Decimal]:
    items = client.scan(TableName=module.total_table(), ConsistentRead=True)["Items"]
    return {i["InvoiceNumber"]["S"]: Decimal(i["Total"]["N"]) for i in items}


def _invoice_history(client: Any, invoices: int = 60) -> None:
    for n in range(invoices):
        _put_transaction(client, f"INV{n:03}", "T1", f"{n}.25")
        _put_transaction(client, f"INV{n:03}", "T2", "100")
    for n in range(0, invoices, 3):
        _put_transaction(client, f"INV{n:03}", "T1", "7.5")  # a modify
    for n in range(0, invoices, 4):
        client.delete_item(
            TableName="InvoiceTransactions",
            Key={"InvoiceNumber": {"S": f"INV{n:03}"}, "TransactionId": {"S": "T2"}},
        )


def test_invoice_tutorial_totals_are_exact_and_redelivery_changes_nothing(
    invoice: Any, dynamodb_client: Any, dynamodbstreams_client: Any
) -> None:
    _put_transaction(dynamodb_client, "ABC", "T1", "100")
    _put_transaction(dynamodb_client, "ABC", "T2", "300")
    records = read_stream(dynamodbstreams_client, table_name="InvoiceTransactions")
    assert invoice.handler({"Records": records}, None) == {"batchItemFailures": []}
    assert _invoice_totals(invoice, dynamodb_client) == {"ABC": Decimal(400)}
    item = dynamodb_client.get_item(
        TableName=invoice.total_table(), Key={"InvoiceNumber": {"S": "ABC"}}
    )["Item"]
    assert {name for name in item if not name.startswith("_")} == {
        "InvoiceNumber",
        "Total",
        "UpdateDate",
    }
    _put_transaction(dynamodb_client, "ABC", "T1", "150")
    dynamodb_client.delete_item(
        TableName="InvoiceTransactions",
        Key={"InvoiceNumber": {"S": "ABC"}, "TransactionId": {"S": "T2"}},
    )
    records = read_stream(dynamodbstreams_client, table_name="InvoiceTransactions")
    for start in (2, 0, 1):  # the new tail, then replays from earlier checkpoints
        assert invoice.handler({"Records": records[start:]}, None) == {"batchItemFailures": []}
    assert _invoice_totals(invoice, dynamodb_client) == {"ABC": Decimal(150)}


@pytest.mark.parametrize(
    "script",
    [
        ["before:fault", "before:fault"],  # throttled twice, then through
        ["after:fault"],  # landed, response lost
        ["after:ok", "after:crash"],  # crash between two transactions
        ["before:crash"],  # crash before the first write
    ],
)
def test_invoice_totals_survive_faults_with_redelivery(
    invoice: Any, dynamodb_client: Any, dynamodbstreams_client: Any, script: list[str]
) -> None:
    _invoice_history(dynamodb_client)
    records = read_stream(dynamodbstreams_client, table_name="InvoiceTransactions")
    event = {"Records": records}  # 60 invoices: more than one transaction of 100 actions
    faults = Faults(invoice.aggregator().sink.client, None, 0, script=script)
    try:
        try:
            response = invoice.handler(event, None)
        except Crash:
            response = invoice.handler(event, None)  # Lambda redelivers the batch
        assert response == {"batchItemFailures": []}
        assert invoice.handler(event, None) == {"batchItemFailures": []}
    finally:
        faults.close()
    assert _invoice_totals(invoice, dynamodb_client) == _expected_invoice_totals(dynamodb_client)


def test_invoice_partial_failure_reports_the_lowest_unapplied_record(
    invoice: Any, dynamodb_client: Any, dynamodbstreams_client: Any, monkeypatch: Any
) -> None:
    _invoice_history(dynamodb_client)
    records = read_stream(dynamodbstreams_client, table_name="InvoiceTransactions")
    sink = invoice.aggregator().sink
    monkeypatch.setattr(sink, "_retry", type(sink.retry)(attempts=2, base=0.0))
    faults = Faults(sink.client, None, 0, script=["after:ok", *["before:fault"] * 500])
    try:
        response = invoice.handler({"Records": records}, None)
    finally:
        faults.close()
    failures = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failures
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    lowest = min(failures, key=int)
    # Lambda redelivers from the lowest reported record on; the rest is skipped by watermarks.
    tail = records[seqs.index(lowest) :]
    assert invoice.handler({"Records": tail}, None) == {"batchItemFailures": []}
    assert _invoice_totals(invoice, dynamodb_client) == _expected_invoice_totals(dynamodb_client)


def test_create_tables_leaves_existing_tables_alone(
    dynamodb_env: Any, dynamodb_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = f"InvoiceTotal-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("INVOICE_TOTAL_TABLE", total)
    monkeypatch.setenv("INVOICE_LEDGER_TABLE", f"Ledger-{uuid.uuid4().hex[:8]}")
    module = _load("invoice_totals")
    _drop(dynamodb_client, module.SOURCE_TABLE)
    dynamodb_client.create_table(
        TableName=total,
        KeySchema=[{"AttributeName": "InvoiceNumber", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "InvoiceNumber", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb_client.put_item(TableName=total, Item={"InvoiceNumber": {"S": "keep"}})
    try:
        module.create_tables(dynamodb_client)
        module.create_tables(dynamodb_client)  # idempotent
        assert dynamodb_client.scan(TableName=total)["Items"] == [{"InvoiceNumber": {"S": "keep"}}]
        source = dynamodb_client.describe_table(TableName="InvoiceTransactions")["Table"]
        assert source["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        ttl = dynamodb_client.describe_time_to_live(TableName=module.ledger_table())
        assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires"
    finally:
        _drop(dynamodb_client, module.SOURCE_TABLE, total, module.ledger_table())


def _score(client: Any, table: str, score_id: str, user: str, points: int) -> None:
    client.put_item(
        TableName=table,
        Item={
            "PK": {"S": f"SCORE#{score_id}"},
            "SK": {"S": f"USER#{user}"},
            "Score": {"N": str(points)},
        },
    )


def _score_state(client: Any, table: str) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    expected: dict[str, Decimal] = {}
    totals: dict[str, Decimal] = {}
    for item in items:
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if pk.startswith("SCORE#"):
            user = sk.removeprefix("USER#")
            expected[user] = expected.get(user, Decimal(0)) + Decimal(item["Score"]["N"])
        elif sk == "TOTAL":
            totals[pk.removeprefix("USER#")] = Decimal(item["TotalScore"]["N"])
    return {u: v for u, v in totals.items() if v}, expected


def test_score_totals_never_count_their_own_writes_nor_loop(
    game: Any, dynamodb_client: Any, dynamodbstreams_client: Any
) -> None:
    table = game.game_table()
    for n in range(30):
        _score(dynamodb_client, table, str(n), f"u{n % 4}", n)
    _score(dynamodb_client, table, "3", "u3", 1000)
    dynamodb_client.delete_item(
        TableName=table, Key={"PK": {"S": "SCORE#4"}, "SK": {"S": "USER#u0"}}
    )
    seen = 0
    for _ in range(4):  # deliver everything new, unfiltered, until the stream is quiet
        records = read_stream(dynamodbstreams_client, table_name=table)
        new, seen = records[seen:], len(records)
        assert game.handler({"Records": new}, None) == {"batchItemFailures": []}
    assert len(read_stream(dynamodbstreams_client, table_name=table)) == seen  # no loop
    totals, expected = _score_state(dynamodb_client, table)
    assert totals == expected
    # and everything again, unfiltered (own writes, ledger items and all): nothing changes
    records = read_stream(dynamodbstreams_client, table_name=table)
    assert game.handler({"Records": records}, None) == {"batchItemFailures": []}
    assert _score_state(dynamodb_client, table)[0] == expected
    assert len(read_stream(dynamodbstreams_client, table_name=table)) == len(records)


def test_score_filter_passes_only_score_items(
    game: Any, dynamodb_client: Any, dynamodbstreams_client: Any
) -> None:
    table = game.game_table()
    _score(dynamodb_client, table, "1", "ann", 5)
    game.handler({"Records": read_stream(dynamodbstreams_client, table_name=table)}, None)
    records = read_stream(dynamodbstreams_client, table_name=table)
    criteria = FilterCriteria.from_dict(game.FILTER_CRITERIA)
    passed = [r["dynamodb"]["Keys"]["PK"]["S"] for r in records if criteria.matches(r)]
    assert passed == ["SCORE#1"]
    assert len(records) == 2  # the score and the user's TOTAL (its watermarks ride in it)


@pytest.mark.parametrize("name", ["invoice_totals", "score_totals"])
def test_filter_criteria_is_valid_and_matches_the_template(name: str) -> None:
    module = _load(name)
    criteria = FilterCriteria.from_dict(module.FILTER_CRITERIA)
    assert criteria.to_dict() == module.FILTER_CRITERIA
    text = (EXAMPLES / name / "template.yaml").read_text()
    for f in module.FILTER_CRITERIA["Filters"]:
        assert f"- Pattern: '{f['Pattern']}'" in text


@pytest.mark.parametrize(
    ("name", "dsl"),
    [
        ("invoice_totals", lambda d: d.keys("InvoiceNumber", descriptor="S").exists()),
        ("score_totals", lambda d: d.keys("PK", descriptor="S").begins_with("SCORE#")),
    ],
)
def test_filter_criteria_equals_the_dsl_compiled_one(name: str, dsl: Any) -> None:
    import ddbstream.filters as dsl_module

    compiled = dsl(dsl_module).to_criteria().to_dict()
    assert compiled == _load(name).FILTER_CRITERIA


@pytest.mark.parametrize("name", ["invoice_totals", "score_totals"])
def test_template_passes_cfn_lint(name: str) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    assert cfn_lint.exists(), "cfn-lint comes with the dev extra (make test installs it)"
    done = subprocess.run(
        [str(cfn_lint), str(EXAMPLES / name / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_run_demo_prints_the_tutorial_tables(
    dynamodb_env: Any, dynamodb_client: Any, dynamodbstreams_client: Any, monkeypatch: Any
) -> None:
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setenv("INVOICE_TOTAL_TABLE", f"InvoiceTotal-{suffix}")
    monkeypatch.setenv("INVOICE_LEDGER_TABLE", f"InvoiceTotalLedger-{suffix}")
    monkeypatch.setenv("GAME_TABLE", f"Game-{suffix}")
    invoice, game = _load("invoice_totals"), _load("score_totals")
    try:
        text = invoice.run_demo(dynamodb_client, dynamodbstreams_client)
        lines = [line.split("|") for line in text.splitlines() if line.startswith("  ABC")]
        assert [line[1].strip() for line in lines] == ["400", "450", "150", "150"]
        assert text.count("the runner read") == 4  # every step goes through the local runner
        text = game.run_demo(dynamodb_client, dynamodbstreams_client)
        assert "USER#alice         | TOTAL      | 95" in text
        # the FILTER_CRITERIA kept the handler's own writes (two TOTAL items) out
        assert "read 5 stream records, 2 filtered out" in text
        assert json.dumps(text)  # printable
    finally:
        _drop(
            dynamodb_client,
            "InvoiceTransactions",
            invoice.total_table(),
            invoice.ledger_table(),
            game.game_table(),
        )


@pytest.mark.parametrize("name", ["in_memory", "window_handler"])
def test_doc_examples_answer_their_recorded_responses(name: str) -> None:
    folder = EXAMPLES / "invoice_totals"
    spec = importlib.util.spec_from_file_location(f"doc_{name}", folder / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    event = json.loads((folder / f"{name}_event.json").read_text())
    expected = json.loads((folder / f"{name}_response.json").read_text())
    assert module.handler(event, None) == expected


@pytest.mark.parametrize("name", ["invoice_totals", "score_totals"])
@pytest.mark.parametrize("factor", [None, "1", "4"])
def test_the_handler_declares_the_mappings_parallelization_factor(
    name: str, factor: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if factor is None:
        monkeypatch.delenv("PARALLELIZATION_FACTOR", raising=False)
    else:
        monkeypatch.setenv("PARALLELIZATION_FACTOR", factor)
    monkeypatch.setenv("GAME_TABLE", f"Game-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("INVOICE_TOTAL_TABLE", f"InvoiceTotal-{uuid.uuid4().hex[:8]}")
    aggregator = _load(name).aggregator()
    assert aggregator.parallelization_factor == int(factor or "1")
    assert aggregator.filter is not None


@pytest.mark.parametrize("name", ["invoice_totals", "score_totals"])
def test_the_template_sets_the_factor_and_the_variable_from_one_parameter(name: str) -> None:
    text = (EXAMPLES / name / "template.yaml").read_text()
    assert "Parameters:\n  ParallelizationFactor:\n    Type: Number\n    Default: 1" in text
    assert "            ParallelizationFactor: !Ref ParallelizationFactor" in text
    assert "          PARALLELIZATION_FACTOR: !Ref ParallelizationFactor" in text


def test_a_bad_parallelization_factor_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ddbstream import UsageError

    monkeypatch.setenv("PARALLELIZATION_FACTOR", "11")
    monkeypatch.setenv("INVOICE_TOTAL_TABLE", f"InvoiceTotal-{uuid.uuid4().hex[:8]}")
    with pytest.raises(UsageError, match="parallelization_factor"):
        _load("invoice_totals").aggregator()


class _LaneFaults:
    """Per-thread faults on the example's client: a delivery's crash after N landed writes (as
    the schedule says), and, drawn ahead of time, throttled writes and lost answers."""

    def __init__(self, client: Any, seed: int) -> None:
        import random
        import threading

        self.client, self.local = client, threading.local()
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        for when in ("before", "after"):
            for op in ("UpdateItem", "TransactWriteItems"):
                client.meta.events.register(f"{when}-call.dynamodb.{op}", getattr(self, when))

    def close(self) -> None:
        for when in ("before", "after"):
            for op in ("UpdateItem", "TransactWriteItems"):
                self.client.meta.events.unregister(
                    f"{when}-call.dynamodb.{op}", getattr(self, when)
                )

    def arm(self, writes: int | None) -> None:
        self.local.armed = writes

    def _roll(self) -> float:
        with self.lock:
            return self.random.random()

    def before(self, **_: Any) -> None:
        from botocore.exceptions import ClientError

        if getattr(self.local, "armed", None) == 0:
            self.local.armed = None
            raise Crash("the function died before its first write")
        if self._roll() < 0.1:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "Op")

    def after(self, **_: Any) -> None:
        from botocore.exceptions import ConnectionClosedError

        armed = getattr(self.local, "armed", None)
        if armed is not None:
            self.local.armed = armed - 1
            if armed - 1 == 0:
                self.local.armed = None
                raise Crash("the function died after its write landed")
        if self._roll() < 0.1:
            raise ConnectionClosedError(endpoint_url="http://lost")  # landed, answer lost


def _deliver_concurrently(schedule: Any, handler: Any, faults: _LaneFaults) -> None:
    """Each lane's deliveries in order in a thread of its own, the lanes at the same time (what
    Lambda does with ParallelizationFactor > 1: per-item order, no order across lanes)."""
    import threading

    lanes: dict[int, list[Any]] = {}
    for delivery in schedule:
        lanes.setdefault(delivery.lane, []).append(delivery)
    errors: list[BaseException] = []

    def run(deliveries: list[Any]) -> None:
        try:
            for delivery in deliveries:
                batch = list(delivery.batch)
                if delivery.fail_at is not None:
                    batch = batch[: delivery.fail_at]
                faults.arm(delivery.crash_after_writes)
                try:
                    response = handler({"Records": batch}, None)
                    assert isinstance(response["batchItemFailures"], list)
                except Crash:
                    pass
                finally:
                    faults.arm(None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in lanes.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def _histories(name: str, token: str) -> Any:
    """Histories of the example's source table whose groups carry ``token`` (so that examples
    share one target table and still compare their own totals)."""
    from hypothesis import strategies as st

    from ddbstream.testing.strategies import change_histories

    if name == "invoice_totals":
        keys = st.fixed_dictionaries(
            {
                "InvoiceNumber": st.sampled_from([f"{token}-1", f"{token}-2"]),
                "TransactionId": st.sampled_from("abcd"),
            }
        )
        values = st.fixed_dictionaries(
            {"Amount": st.integers(-999, 999).map(lambda n: Decimal(n).scaleb(-2))}
        )
        table = "InvoiceTransactions"
    else:
        keys = st.fixed_dictionaries(
            {
                "PK": st.sampled_from([f"SCORE#{token}-{n}" for n in range(3)]),
                "SK": st.sampled_from([f"USER#{token}-a", f"USER#{token}-b"]),
            }
        )
        values = st.fixed_dictionaries({"Score": st.integers(0, 100).map(Decimal)})
        table = "Game"
    return change_histories(keys=keys, attributes=values, max_changes=25, table_name=table)


def _expected(name: str, final_table: Any) -> dict[str, Decimal]:
    expected: dict[str, Decimal] = {}
    for item in final_table.values():
        if name == "invoice_totals":
            group, value = item["InvoiceNumber"], item["Amount"]
        else:
            group, value = f"USER#{item['SK'].removeprefix('USER#')}", item["Score"]
        expected[group] = expected.get(group, Decimal(0)) + value
    return {g: v for g, v in expected.items() if v}


@pytest.mark.parametrize("name", ["invoice_totals", "score_totals"])
def test_the_examples_stay_exact_through_any_delivery_under_faults(
    dynamodb_env: Any, dynamodb_client: Any, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """ParallelizationFactor 1 (duplicates, replays, partial failures, crashes between writes,
    lost answers, throttling) and 2 or 3 (the same, lanes delivered at the same time)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from ddbstream.testing.strategies import deliveries

    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setenv("INVOICE_TOTAL_TABLE", f"InvoiceTotal-{suffix}")
    monkeypatch.setenv("INVOICE_LEDGER_TABLE", f"InvoiceTotalLedger-{suffix}")
    monkeypatch.setenv("GAME_TABLE", f"Game-{suffix}")
    module = _load(name)
    if name == "invoice_totals":
        _drop(dynamodb_client, module.SOURCE_TABLE)
    module.create_tables(dynamodb_client)

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data(), factor=st.integers(1, 3), seed=st.integers(0, 2**16))
    def check(data: st.DataObject, factor: int, seed: int) -> None:
        monkeypatch.setenv("PARALLELIZATION_FACTOR", str(factor))
        token = uuid.uuid4().hex[:8]
        history = data.draw(_histories(name, token))
        schedule = data.draw(
            deliveries(
                history.records, parallelization_factor=factor, max_faults=6, bisect_on_error=True
            )
        )
        aggregator = module.aggregator()
        assert aggregator.parallelization_factor == factor
        faults = _LaneFaults(aggregator.sink.client, seed)
        try:
            _deliver_concurrently(schedule, module.handler, faults)
        finally:
            faults.close()
        got = {
            (g if isinstance(g, str) else g[0]): next(iter(v.values()))
            for g, v in aggregator.snapshot().items()
        }
        mine = {g: v for g, v in got.items() if token in g}
        assert mine == _expected(name, history.final_table)

    try:
        check()
    finally:
        if name == "invoice_totals":
            _drop(dynamodb_client, module.SOURCE_TABLE, module.total_table(), module.ledger_table())
        else:
            _drop(dynamodb_client, module.game_table())
