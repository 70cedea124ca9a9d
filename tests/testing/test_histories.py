"""change_histories are consistent tables with streams; deliveries are what Lambda could do."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddbstream import StreamRecord, UsageError, deserialize_image
from ddbstream.testing import ChangeHistory, Delivery, DeliverySchedule
from ddbstream.testing._histories import item_key
from ddbstream.testing.strategies import change_histories, deliveries

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
INVOICE_KEYS = st.fixed_dictionaries(
    {"InvoiceNumber": st.sampled_from(["I1", "I2"]), "TransactionId": st.sampled_from("abc")}
)
AMOUNTS = st.fixed_dictionaries(
    {"Amount": st.decimals(min_value=-100, max_value=100, places=2, allow_nan=False)}
)


def _replay(records: tuple[Any, ...]) -> dict[Any, dict[str, Any]]:
    """Apply NEW_AND_OLD_IMAGES records to an empty table, checking each one on the way."""
    table: dict[Any, dict[str, Any]] = {}
    for raw in records:
        ddb = raw["dynamodb"]
        key = item_key(ddb["Keys"])
        name = raw["eventName"]
        assert (key in table) == (name != "INSERT"), f"{name} of {key} against {table}"
        if name != "INSERT":
            assert deserialize_image(ddb["OldImage"]) == table[key]
        if name == "REMOVE":
            assert "NewImage" not in ddb
            del table[key]
        else:
            table[key] = deserialize_image(ddb["NewImage"])
            if name == "MODIFY":
                assert ddb["NewImage"] != ddb["OldImage"], "a no-op write produced a record"
    return table


@SETTINGS
@given(change_histories())
def test_replaying_records_gives_the_final_table(history: ChangeHistory) -> None:
    assert _replay(history.records) == dict(history.final_table)


@SETTINGS
@given(change_histories(keys=INVOICE_KEYS, attributes=AMOUNTS, max_changes=40))
def test_invoice_like_histories(history: ChangeHistory) -> None:
    table = _replay(history.records)
    assert table == dict(history.final_table)
    for item in history.final_table.values():
        assert set(item) == {"InvoiceNumber", "TransactionId", "Amount"}
        assert isinstance(item["Amount"], Decimal)
    # the identity used by final_table is the records API's item_key
    for raw in history.records:
        assert StreamRecord(raw).item_key == item_key(raw["dynamodb"]["Keys"])


@SETTINGS
@given(change_histories(max_changes=6), st.data())
def test_histories_and_schedules_are_values(history: ChangeHistory, data: st.DataObject) -> None:
    same = ChangeHistory(history.records, dict(history.final_table), history.view_type)
    assert same == history
    assert hash(same) == hash(history)
    schedule = data.draw(deliveries(history.records))
    copy = DeliverySchedule(
        tuple(Delivery(d.batch, d.fail_at, d.crash_after_writes) for d in schedule)
    )
    assert copy == schedule
    assert hash(copy) == hash(schedule)
    assert len(copy) == len(schedule)


@SETTINGS
@given(change_histories(max_changes=30))
def test_stream_order_and_identity(history: ChangeHistory) -> None:
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in history.records]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert len({r["eventID"] for r in history.records}) == len(seqs)
    times = [r["dynamodb"]["ApproximateCreationDateTime"] for r in history.records]
    assert times == sorted(times)
    for raw in history.records:
        if "userIdentity" in raw:
            assert raw["eventName"] == "REMOVE"
            assert StreamRecord(raw).is_ttl_delete


@pytest.mark.parametrize("view_type", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
def test_records_for_each_view_type(view_type: str) -> None:
    @SETTINGS
    @given(change_histories(view_type=view_type, max_changes=10))
    def check(history: ChangeHistory) -> None:
        assert history.view_type == view_type
        full = history.records_for("NEW_AND_OLD_IMAGES")
        assert len(history.records) == len(full)
        assert _replay(full) == dict(history.final_table)
        for mine, complete in zip(history.records, full, strict=True):
            ddb, whole = mine["dynamodb"], complete["dynamodb"]
            assert ddb["StreamViewType"] == view_type
            assert ddb["SequenceNumber"] == whole["SequenceNumber"]
            assert ddb["Keys"] == whole["Keys"]
            keeps_new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
            keeps_old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
            assert ddb.get("NewImage") == (whole.get("NewImage") if keeps_new else None)
            assert ddb.get("OldImage") == (whole.get("OldImage") if keeps_old else None)
        assert history.records_for(view_type) == history.records

    check()


def test_items_are_removed_and_reinserted() -> None:
    seen: list[bool] = []

    @settings(deadline=None)
    @given(change_histories(keys=st.just({"pk": "only"}), max_changes=12))
    def check(history: ChangeHistory) -> None:
        names = [r["eventName"] for r in history.records]
        if "REMOVE" in names and "INSERT" in names[names.index("REMOVE") :]:
            seen.append(True)

    check()
    assert seen, "no history removed and re-inserted an item"


def test_bad_history_options() -> None:
    for strategy in (
        change_histories(view_type="BOTH"),
        change_histories(min_changes=3, max_changes=1),
    ):

        @given(strategy)
        def draw(value: Any) -> None:
            raise AssertionError("unreachable")

        with pytest.raises(UsageError):
            draw()
    with pytest.raises(UsageError):
        ChangeHistory((), {}).records_for("ALL")


# -- deliveries ---------------------------------------------------------------------------


def _lane_of(schedule: DeliverySchedule, records: tuple[Any, ...]) -> dict[Any, int]:
    lanes: dict[Any, int] = {}
    for delivery in schedule:
        for raw in delivery.batch:
            key = item_key(raw["dynamodb"]["Keys"])
            assert lanes.setdefault(key, delivery.lane) == delivery.lane, "an item changed lanes"
    return lanes


def _check_schedule(records: tuple[Any, ...], schedule: DeliverySchedule, max_batch: int) -> None:
    """Simulate Lambda's checkpoints and check the schedule against its guarantees."""
    lane_of = _lane_of(schedule, records)
    lanes: dict[int, list[Any]] = defaultdict(list)
    for raw in records:
        lanes[lane_of[item_key(raw["dynamodb"]["Keys"])]].append(raw)
    checkpoint: dict[int, int] = defaultdict(int)
    acknowledged: set[str] = set()
    for delivery in schedule:
        lane = lanes[delivery.lane]
        assert 1 <= len(delivery.batch) <= max_batch
        start = lane.index(delivery.batch[0])
        assert start <= checkpoint[delivery.lane], "a delivery skipped unacknowledged records"
        assert list(delivery.batch) == lane[start : start + len(delivery.batch)]
        assert delivery.event == {"Records": list(delivery.batch)}
        if delivery.crash_after_writes is not None:
            assert delivery.fail_at is None
            continue
        done = len(delivery.batch) if delivery.fail_at is None else delivery.fail_at
        assert 0 <= done <= len(delivery.batch)
        acknowledged.update(r["eventID"] for r in delivery.batch[:done])
        checkpoint[delivery.lane] = max(checkpoint[delivery.lane], start + done)
    assert acknowledged == {r["eventID"] for r in records}, "a record was never delivered"


@SETTINGS
@given(st.data())
def test_deliveries_deliver_every_record_in_order(data: st.DataObject) -> None:
    history = data.draw(change_histories(max_changes=25))
    factor = data.draw(st.integers(1, 4))
    schedule = data.draw(
        deliveries(history.records, max_batch_size=4, parallelization_factor=factor)
    )
    assert schedule.parallelization_factor == factor
    assert all(0 <= d.lane < factor for d in schedule)
    _check_schedule(history.records, schedule, 4)


@SETTINGS
@given(st.data())
def test_without_faults_each_record_comes_once_in_stream_order(data: st.DataObject) -> None:
    history = data.draw(change_histories(max_changes=20))
    schedule = data.draw(deliveries(history.records, max_faults=0))
    delivered = [r for d in schedule for r in d.batch]
    assert delivered == list(history.records)
    assert all(d.fail_at is None and d.crash_after_writes is None for d in schedule)


def test_schedules_contain_every_kind_of_fault() -> None:
    kinds: set[str] = set()

    @settings(deadline=None)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        history = data.draw(change_histories(min_changes=8, max_changes=20))
        schedule = data.draw(deliveries(history.records, max_batch_size=3, bisect_on_error=True))
        seen: set[str] = set()
        for delivery in schedule:
            if delivery.fail_at is not None:
                kinds.add("fail")
            if delivery.crash_after_writes is not None:
                kinds.add("crash")
            ids = tuple(r["eventID"] for r in delivery.batch)
            if any(i in seen for i in ids):
                kinds.add("redelivery")
            seen.update(ids)

    check()
    assert kinds == {"fail", "crash", "redelivery"}


def test_an_idempotent_consumer_survives_any_schedule() -> None:
    """The use the aggregation tests make of the kit: a consumer that keeps a per-item
    sequence watermark ends with the final table whatever Lambda does."""

    @SETTINGS
    @given(st.data())
    def check(data: st.DataObject) -> None:
        history = data.draw(change_histories(max_changes=25))
        schedule = data.draw(deliveries(history.records, parallelization_factor=2))
        table: dict[Any, Any] = {}
        watermark: dict[Any, int] = {}
        for delivery in schedule:
            stop = len(delivery.batch) if delivery.fail_at is None else delivery.fail_at
            writes = 0
            for record in map(StreamRecord, delivery.batch[:stop]):
                if (
                    delivery.crash_after_writes is not None
                    and writes == delivery.crash_after_writes
                ):
                    break  # the process died here; Lambda retries
                if int(record.sequence_number) <= watermark.get(record.item_key, -1):
                    continue  # already applied
                if record.new_image is None:
                    table.pop(record.item_key, None)
                else:
                    table[record.item_key] = record.new_image.to_dict()
                watermark[record.item_key] = int(record.sequence_number)
                writes += 1
        assert table == dict(history.final_table)

    check()


def test_bad_delivery_options() -> None:
    for kwargs in ({"parallelization_factor": 11}, {"max_batch_size": 0}, {"max_faults": -1}):

        @given(deliveries((), **kwargs))  # type: ignore[arg-type]
        def draw(value: Any) -> None:
            raise AssertionError("unreachable")

        with pytest.raises(UsageError):
            draw()
    assert list(Delivery((), lane=1).event["Records"]) == []
