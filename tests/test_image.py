"""Image: a lazily decoded, cached, immutable mapping of one item image; errors name the image,
the attribute path and the record; equality is by value and type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ddbstream import DecodeError, Image, StreamEvent, deserialize
from ddbstream.testing import insert, lambda_event


def test_image_caches_and_keeps_raw() -> None:
    record = StreamEvent.from_lambda(lambda_event(insert({"pk": "a", "tags": {"x", "y"}}))).records[
        0
    ]
    image = record.new_image
    assert isinstance(image, Image)
    assert image["tags"] is image["tags"]
    assert image.descriptor("tags") == {"SS": ["x", "y"]}
    assert dict(image.raw) == {"pk": {"S": "a"}, "tags": {"SS": ["x", "y"]}}
    assert image.to_dict() == {"pk": "a", "tags": {"x", "y"}}
    with pytest.raises(TypeError):
        image.raw["pk"] = {"S": "b"}  # type: ignore[index]


def test_decode_errors_name_nested_paths() -> None:
    raw = lambda_event(insert({"pk": "a", "items": [{"qty": 1}] * 4}))["Records"][0]
    raw["dynamodb"]["NewImage"]["items"]["L"][3]["M"]["qty"] = {"N": "1e999"}
    record = StreamEvent.from_lambda({"Records": [raw]}).records[0]
    assert record.new_image is not None
    with pytest.raises(DecodeError) as info:
        record.new_image.to_dict()
    assert info.value.path == ("NewImage", "items", 3, "qty")
    assert info.value.event_id == raw["eventID"]
    assert "NewImage.items[3].qty" in str(info.value)


def test_image_equality_is_by_value_and_type() -> None:
    from ddbstream import Image

    one = Image({"n": {"N": "1"}})
    assert one == Image({"n": {"N": "1.0"}})
    assert hash(one) == hash(Image({"n": {"N": "1.0"}}))
    assert one != Image({"n": {"BOOL": True}})
    assert one != Image({"n": {"N": "2"}})
    assert one != Image({"n": {"N": "1"}, "m": {"S": "x"}})


def test_the_number_cache_is_bounded_and_exact() -> None:
    from ddbstream import _codec

    for i in range(10_000):
        assert deserialize({"N": f"{i}.5"}) == Decimal(f"{i}.5")
    assert len(_codec._NUMBERS) <= _codec._NUMBERS_MAX
    assert deserialize({"N": "1.50"}) == Decimal("1.50")
    assert str(deserialize({"N": "1.50"})) == "1.50"  # cached by text: the spelling is kept
