"""StreamRecord: every field under its snake_case name, typed errors that name the record,
``require_new``/``require_old``, ``changed_attributes``, and a repr and hash that never fail."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ddbstream import (
    DataError,
    DecodeError,
    ImageValidationError,
    MissingImageError,
    StreamEvent,
    StreamRecord,
    UsageError,
)
from ddbstream._records import bind_now
from ddbstream.testing import insert, lambda_event, modify, remove
from ddbstream.testing.strategies import lambda_events

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(lambda_events(max_size=5))
def test_record_fields_mirror_the_raw_record(event: dict[str, Any]) -> None:
    for record, raw in zip(StreamEvent.from_lambda(event), event["Records"], strict=True):
        ddb = raw["dynamodb"]
        assert record.event_id == raw["eventID"]
        assert record.event_name.value == raw["eventName"]
        assert record.sequence_number == ddb["SequenceNumber"]
        assert record.stream_view_type is not None
        assert record.stream_view_type.value == ddb["StreamViewType"]
        assert record.aws_region == raw["awsRegion"]
        assert record.approximate_creation_time is not None
        assert record.approximate_creation_time.timestamp() == ddb["ApproximateCreationDateTime"]
        assert (record.new_image is None) == ("NewImage" not in ddb)
        assert (record.old_image is None) == ("OldImage" not in ddb)
        if record.new_image is not None:
            assert record.new_image.raw == ddb["NewImage"]


def test_record_level_errors_name_the_record() -> None:
    raw = lambda_event(insert({"pk": "a"}))["Records"][0]
    bad_seq = {**raw, "dynamodb": {**raw["dynamodb"], "SequenceNumber": "12a"}}
    with pytest.raises(DecodeError) as info:
        StreamEvent.from_lambda({"Records": [bad_seq]}).records  # noqa: B018
    assert info.value.event_id == raw["eventID"]
    assert info.value.path == ("dynamodb", "SequenceNumber")
    bad_name = {**raw, "eventName": "UPSERT"}
    record = StreamEvent.from_lambda({"Records": [bad_name]}).records[0]
    with pytest.raises(DecodeError) as info:
        record.event_name  # noqa: B018
    assert info.value.path == ("eventName",)
    assert info.value.sequence_number == raw["dynamodb"]["SequenceNumber"]


@pytest.mark.parametrize("value", [1e20, float("nan"), float("inf"), -1e20])
def test_bad_creation_time_is_a_decode_error(value: float) -> None:
    event = lambda_event(insert({"pk": "a"}))
    event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] = value
    record = StreamEvent.from_lambda(event).records[0]
    with pytest.raises(DecodeError) as info:
        record.approximate_creation_time  # noqa: B018
    assert info.value.path == ("dynamodb", "ApproximateCreationDateTime")
    assert info.value.event_id == event["Records"][0]["eventID"]


# -- changed_attributes -------------------------------------------------------------------


def _record(raw: dict[str, Any]) -> StreamRecord[Any]:
    return StreamEvent.from_lambda(lambda_event(raw)).records[0]


def test_changed_attributes() -> None:
    old = {"pk": "a", "n": 1, "gone": "x", "same": [1, {"b": b"x"}]}
    new = {"pk": "a", "n": 2, "added": True, "same": [1, {"b": b"x"}]}
    assert _record(modify(old, new)).changed_attributes() == {"n", "gone", "added"}
    assert _record(insert(new)).changed_attributes() == set(new)
    assert _record(remove(old)).changed_attributes() == set(old)
    with pytest.raises(UsageError, match="NEW_AND_OLD_IMAGES"):
        _record(modify(old, new, view_type="NEW_IMAGE")).changed_attributes()


def test_changed_attributes_ignores_number_spelling() -> None:
    raw = modify({"pk": "a", "n": 1}, {"pk": "a", "n": 1, "m": 2})
    raw["dynamodb"]["OldImage"]["n"] = {"N": "1.0"}
    assert _record(raw).changed_attributes() == {"m"}


def test_changed_attributes_sees_type_changes() -> None:
    old = {"pk": "a", "flag": 1, "flags": [0]}
    new = {"pk": "a", "flag": True, "flags": [False]}
    assert _record(modify(old, new)).changed_attributes() == {"flag", "flags"}


# -- require_new / require_old ------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "method", "reason"),
    [
        (remove({"pk": "a"}), "require_new", "a REMOVE record has no NewImage"),
        (insert({"pk": "a"}), "require_old", "an INSERT record has no OldImage"),
        (
            modify({"pk": "a"}, {"pk": "a", "n": 1}, view_type="KEYS_ONLY"),
            "require_new",
            "a record of a KEYS_ONLY stream has no NewImage",
        ),
        (
            modify({"pk": "a"}, {"pk": "a", "n": 1}, view_type="NEW_IMAGE"),
            "require_old",
            "a record of a NEW_IMAGE stream has no OldImage",
        ),
    ],
)
def test_a_missing_image_is_a_typed_error_naming_the_record(
    record: dict[str, Any], method: str, reason: str
) -> None:
    raw = lambda_event(record)["Records"][0]
    parsed = _record(raw)
    with pytest.raises(MissingImageError) as info:
        getattr(parsed, method)()
    assert info.value.reason == reason
    assert info.value.event_id == raw["eventID"]
    assert info.value.sequence_number == raw["dynamodb"]["SequenceNumber"]
    assert isinstance(info.value, DataError)


def test_require_returns_the_image_or_the_model() -> None:
    from pydantic import BaseModel

    class Item(BaseModel):
        pk: str
        n: int

    record = _record(modify({"pk": "a", "n": 1}, {"pk": "a", "n": 2}))
    assert record.require_new()["n"] == 2
    assert record.require_old()["n"] == 1
    assert record.bind(Item).require_new() == Item(pk="a", n=2)


def test_bind_now_validates_both_images_before_returning() -> None:
    from pydantic import BaseModel

    class Strict(BaseModel):
        pk: str
        n: int

    record = _record(modify({"pk": "a", "n": "x"}, {"pk": "a", "n": 2}))
    with pytest.raises(ImageValidationError, match="OldImage"):
        bind_now(record, Strict)
    assert bind_now(record, None) is record


# -- repr, hash, equality: never anything but typed errors -----------------------------------


def test_repr_and_hash_survive_fields_of_the_wrong_type() -> None:
    raw = lambda_event(insert({"pk": "a"}))["Records"][0]
    raw["eventID"] = ["not", "a", "string"]
    raw["eventName"] = {"x": "y" * 10_000}
    raw["dynamodb"]["Keys"] = [[[["deep"]]]]
    record = _record(raw)
    assert len(repr(record)) < 400
    assert hash(record) == hash(_record(raw))
    assert record == _record(raw)
    with pytest.raises(DecodeError, match="Keys must be an object"):
        _ = record.keys
    with pytest.raises(DecodeError, match="eventID must be a string"):
        _ = record.event_id


def test_item_key_is_hashable_identity_or_a_decode_error() -> None:
    record = _record(insert({"pk": "a", "sk": 1}))
    assert record.item_key == (("pk", '{"S":"a"}'), ("sk", '{"N":"1"}'))
    raw = lambda_event(insert({"pk": "a"}))["Records"][0]
    raw["dynamodb"]["Keys"] = {"pk": {"N": "not a number"}, 3: {"S": "x"}}
    with pytest.raises(DecodeError):
        _ = _record(raw).item_key


def test_records_of_different_envelopes_or_models_differ() -> None:
    raw = lambda_event(insert({"pk": "a"}))
    lambda_record = StreamEvent.from_lambda(raw).records[0]
    assert lambda_record != StreamEvent.from_pipes(raw["Records"]).records[0]
    assert lambda_record != lambda_record.bind(dict)
    assert lambda_record.bind(dict) == lambda_record.bind(dict)


@pytest.mark.parametrize("model", [None, dict])
def test_records_copy_and_pickle(model: Any) -> None:
    import copy
    import pickle

    from ddbstream.testing import kinesis_event

    for raw in (lambda_event(insert({"pk": "a"})), kinesis_event(insert({"pk": "a"}))):
        record = StreamEvent.parse(raw).records[0]
        record = record if model is None else record.bind(model)
        for again in (copy.deepcopy(record), pickle.loads(pickle.dumps(record))):
            assert again == record
            assert (again.raw, again.model, again.keys) == (record.raw, record.model, record.keys)
