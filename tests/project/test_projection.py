"""ddbstream.project.Projection on the in-memory sink: what a record changes, coalescing, failures,
and the property: after any Lambda delivery schedule the target is the projection of the table."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _delivery import Crash, play
from ddbstream import ProjectionError, TransientError, UsageError
from ddbstream.aggregate import Retry
from ddbstream.project import (
    Change,
    Failed,
    MemorySink,
    Projection,
    ProjectionResult,
    Superseded,
    Written,
)
from ddbstream.testing import EventBuilder, FakeLambdaContext
from ddbstream.testing.strategies import change_histories, deliveries

from ._kit import ITEMS, KEYS, Armed, copy_of, expected, moving

B = EventBuilder("Users", keys=("UserId",))


def search(image: Any) -> dict[str, Any]:
    return {"UserId": image["UserId"], "Name": image["Name"]}


def user(uid: str, name: str, **more: Any) -> dict[str, Any]:
    return {"UserId": uid, "Name": name, **more}


def test_a_batch_writes_each_target_item_once_with_its_newest_change() -> None:
    seen: list[Change] = []
    sink = MemorySink(
        key="UserId", fault=lambda c, phase: seen.append(c) if phase == "after" else None
    )
    a1, a2, a3 = user("u1", "A"), user("u1", "B"), user("u1", "C")
    records = [B.insert(a1), B.modify(a1, a2), B.insert(user("u2", "Z")), B.modify(a2, a3)]
    result = Projection(search, sink=sink).apply(B.lambda_event(records))
    assert isinstance(result, ProjectionResult)
    assert result.ok
    assert result.writes == 2
    assert [c.item for c in seen] == [{"UserId": "u1", "Name": "C"}, {"UserId": "u2", "Name": "Z"}]
    assert [c.created for c in seen] == [True, True]
    assert sink.items() == [search(a3), search(user("u2", "Z"))]


def test_a_remove_deletes_and_a_late_older_record_does_not_bring_the_item_back() -> None:
    sink = MemorySink(key="UserId")
    projection = Projection(search, sink=sink)
    a, b = user("u1", "A"), user("u1", "B")
    insert, change, delete = B.insert(a), B.modify(a, b), B.remove(b)
    assert projection.apply(B.lambda_event([insert, change, delete])).ok
    assert sink.items() == []
    replay = projection.apply(B.lambda_event([insert, change]))  # a replay after the deletion
    assert replay.ok
    assert replay.duplicates == 2
    assert sink.items() == []
    assert list(sink.tombstones().values()) == [int(delete["dynamodb"]["SequenceNumber"])]


def test_none_and_moves_delete_what_the_old_image_projected() -> None:
    sink = MemorySink(key="pk")
    projection = Projection(moving, sink=sink)
    B2 = EventBuilder("T", keys=("pk",))
    old = {"pk": "a", "n": 1, "tag": "x"}
    moved = {"pk": "a", "n": 2, "tag": "y"}
    hidden = {**moved, "hide": True}
    assert projection.apply(B2.lambda_event([B2.insert(old), B2.modify(old, moved)])).ok
    assert sink.items() == sorted(moving(moved) or [], key=lambda i: i["pk"])
    assert projection.apply(B2.lambda_event([B2.modify(moved, hidden)])).ok
    assert sink.items() == []


def test_an_unchanged_projection_is_still_written_once_and_redelivery_is_a_duplicate() -> None:
    sink = MemorySink(key="UserId")
    projection = Projection(search, sink=sink)
    a = user("u1", "A", Age=1)
    records = [B.insert(a), B.modify(a, {**a, "Age": 2})]
    first = projection.apply(B.lambda_event(records))
    again = projection.apply(B.lambda_event(records))
    assert (first.writes, again.writes, again.duplicates) == (1, 0, 2)


def test_a_bad_record_fails_alone_and_later_records_of_its_item_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = MemorySink(key="UserId")
    projection = Projection(search, sink=sink)
    bad = {"UserId": "u1"}  # no Name: search() raises KeyError
    good = user("u2", "Bob")
    records = [B.insert(bad), B.insert(good), B.modify(bad, user("u1", "Ann"))]
    with caplog.at_level(logging.INFO, logger="ddbstream.project"):
        result = projection.apply(B.lambda_event(records))
    ids = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert result.failed == (ids[0],)
    assert result.not_attempted == (ids[2],)
    assert result.response() == {
        "batchItemFailures": [{"itemIdentifier": ids[0]}, {"itemIdentifier": ids[2]}]
    }
    assert sink.items() == [search(good)]
    error = result.errors[0]
    assert isinstance(error, ProjectionError)
    assert isinstance(error.__cause__, KeyError)
    assert error.sequence_number == ids[0]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the failed record, once (the one that waited is reported only)
    assert sum(1 for r in caplog.records if r.levelno == logging.INFO) == 1


@pytest.mark.parametrize(
    ("function", "reason"),
    [
        (lambda image: {"Name": "x"}, "lacks the target's key attribute 'UserId'"),
        (lambda image: {"UserId": ""}, "must be a non-empty string"),
        (lambda image: {"UserId": "u", "F": 1.5}, "float"),
        (lambda image: "u1", "returned str"),
        (lambda image: [{"UserId": "u"}, {"UserId": "u"}], "two target items with the key"),
    ],
)
def test_what_the_function_returns_is_checked(function: Any, reason: str) -> None:
    projection = Projection(function, sink=MemorySink(key="UserId"))
    result = projection.apply(B.lambda_event([B.insert(user("u1", "A"))]))
    assert len(result.failed) == 1
    assert isinstance(result.errors[0], ProjectionError)
    assert reason in str(result.errors[0])


def test_a_stream_without_old_images_is_refused_by_name() -> None:
    builder = EventBuilder("Users", keys=("UserId",), view_type="NEW_IMAGE")
    a = user("u1", "A")
    projection = Projection(search, sink=MemorySink(key="UserId"))
    result = projection.apply(builder.lambda_event([builder.modify(a, user("u1", "B"))]))
    assert "NEW_AND_OLD_IMAGES" in str(result.errors[0])


def test_kinesis_records_and_tumbling_windows_are_usage_errors() -> None:
    from ddbstream.testing import kinesis_event, tumbling_window_event

    projection = Projection(search, sink=MemorySink(key="UserId"))
    with pytest.raises(UsageError, match="Kinesis"):
        projection.handle(kinesis_event(B.insert(user("u1", "A"))), None)
    window = tumbling_window_event(
        [B.insert(user("u1", "A"))],
        start="2024-01-01T00:00:00Z",
        end="2024-01-01T00:01:00Z",
    )
    with pytest.raises(UsageError, match="TumblingWindowInSeconds"):
        projection.handle(window, None)


def test_transient_sink_errors_are_retried_then_reported() -> None:
    calls: list[str] = []

    def throttled(change: Change, phase: str) -> None:
        calls.append(phase)
        if phase == "before":
            raise TransientError("throttled")

    sink = MemorySink(key="UserId", fault=throttled)
    projection = Projection(search, sink=sink, retry=Retry(attempts=3, base=0.0))
    result = projection.apply(B.lambda_event([B.insert(user("u1", "A"))]))
    assert calls == ["before"] * 3
    assert isinstance(result.errors[0], TransientError)
    assert len(result.failed) == 1


def test_the_deadline_stops_writes_and_reports_them() -> None:
    projection = Projection(search, sink=MemorySink(key="UserId"))
    context = FakeLambdaContext(remaining_ms=10)
    result = projection.apply(B.lambda_event([B.insert(user("u1", "A"))]), context)
    assert result.deadline_reached
    assert len(result.not_attempted) == 1


def test_a_user_sink_gets_changes_and_its_answers_are_read() -> None:
    @dataclass
    class Recording:
        name: str | None = "recording"
        key: tuple[str, ...] = ("UserId",)
        version: int = 0

        def write(self, changes: Any) -> list[Any]:
            out: list[Any] = []
            for change in changes:
                if change.version <= self.version:
                    out.append(Superseded(self.version))
                elif change.item is None:
                    out.append(Failed(ProjectionError("refused")))
                else:
                    self.version = change.version
                    out.append(Written())
            return out

    sink = Recording()
    projection = Projection(search, sink=sink)
    a = user("u1", "A")
    records = [B.insert(a)]
    assert projection.apply(B.lambda_event(records)).writes == 1
    assert projection.apply(B.lambda_event(records)).duplicates == 1
    assert projection.apply(B.lambda_event([B.remove(a)])).failed
    with pytest.raises(UsageError, match="sink must be"):
        Projection(search, sink=object())  # type: ignore[call-overload]


def test_apply_record_mounts_the_projection_in_a_router() -> None:
    from ddbstream import Router

    sink = MemorySink(key="UserId")
    projection = Projection(search, sink=sink)
    router = Router()
    router.add(lambda record: True, projection.apply_record)
    bad = {"UserId": "u0"}
    event = B.lambda_event([B.insert(user("u1", "A")), B.insert(bad), B.insert(user("u2", "B"))])
    response = router.handle(event, None)
    assert response == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}]
    }
    assert sink.items() == [search(user("u1", "A"))]  # stop at the first failure


def test_a_typed_model_reaches_the_function() -> None:
    @dataclass
    class User:
        UserId: str
        Name: str

    seen: list[Any] = []

    def to_item(u: User) -> dict[str, Any]:
        seen.append(u)
        return {"UserId": u.UserId, "Name": u.Name.upper()}

    sink = MemorySink(key="UserId")
    Projection(to_item, sink=sink, model=User).apply(B.lambda_event([B.insert(user("u1", "a"))]))
    assert seen == [User("u1", "a")]
    assert sink.items() == [{"UserId": "u1", "Name": "A"}]


@given(data=st.data(), factor=st.integers(1, 3), function=st.sampled_from([copy_of, moving]))
def test_the_target_is_the_projection_of_the_table_after_any_schedule(
    data: st.DataObject, factor: int, function: Any
) -> None:
    history = data.draw(change_histories(keys=KEYS, attributes=ITEMS, max_changes=30))
    schedule = data.draw(
        deliveries(
            history.records, parallelization_factor=factor, max_faults=10, bisect_on_error=True
        )
    )
    armed = Armed()

    def fault(change: Change, phase: str) -> None:
        armed.before() if phase == "before" else armed.after()

    sink = MemorySink(key="pk", fault=fault)
    projection = Projection(function, sink=sink)
    play(schedule, lambda event: projection.handle(event, None), armed.arm)
    assert sink.items() == expected(history.final_table, function)
    assert Crash  # the fault hook raises it; play absorbs it as Lambda would


def test_each_batch_is_published_as_metrics_of_the_project_component() -> None:
    import io
    import json

    from ddbstream import EmfMetrics

    out = io.StringIO()
    projection = Projection(search, sink=MemorySink(key="UserId"), metrics=EmfMetrics(stream=out))
    projection.handle(B.lambda_event([B.insert(user("u1", "A")), B.insert({"UserId": "u2"})]), None)
    line = json.loads(out.getvalue())
    assert (line["component"], line["RecordsIn"], line["RecordsFailed"]) == ("project", 2, 1)


def test_records_of_an_item_out_of_stream_order_fail_by_name() -> None:
    a, b = user("u1", "A"), user("u1", "B")
    first, second = B.insert(a), B.modify(a, b)
    projection = Projection(search, sink=MemorySink(key="UserId"))
    result = projection.apply(B.lambda_event([second, first]))
    assert result.failed == (first["dynamodb"]["SequenceNumber"],)
    assert "projections need each item's records in stream order" in str(result.errors[0])
