"""Pattern parsing and validation: event-ruler's rules and messages, duplicate keys, limits,
the Filter value type (equality, hash, repr, round trip)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import InvalidPattern
from ddbstream.filters import Filter
from ddbstream.filters._pattern import expand, loads_pattern, validate

INVALID = json.loads((Path(__file__).parent / "cases" / "invalid.json").read_text())


@pytest.mark.parametrize("case", INVALID, ids=[c["note"] for c in INVALID])
def test_invalid_patterns_are_rejected_with_event_ruler_reasons(case: dict[str, Any]) -> None:
    pattern = case["pattern_text"] if "pattern_text" in case else case["pattern"]
    with pytest.raises(InvalidPattern) as info:
        Filter.from_pattern(pattern)
    assert case["reason"] in info.value.reason
    if "path" in case:
        assert list(info.value.path) == case["path"]
    assert isinstance(info.value, ValueError)


def test_invalid_pattern_text_is_rejected_as_text_too() -> None:
    for case in INVALID:
        if "pattern" in case and isinstance(case["pattern"], dict):
            with pytest.raises(InvalidPattern):
                Filter.from_pattern(json.dumps(case["pattern"]))


def test_error_message_renders_the_location() -> None:
    with pytest.raises(InvalidPattern) as info:
        Filter.from_pattern({"dynamodb": {"NewImage": {"a": {"S": []}}}})
    assert str(info.value) == "Empty arrays are not allowed (at dynamodb.NewImage.a.S)"


def test_duplicate_object_keys_deep_merge_like_event_ruler() -> None:
    text = """{"dynamodb": {"NewImage": {"a": {"S": ["1"]}}, "Keys": {"pk": {"S": ["k"]}}},
               "eventName": ["MODIFY"],
               "dynamodb": {"OldImage": {"a": {"S": ["2"]}}, "NewImage": {"b": {"S": ["3"]}}}}"""
    assert Filter.from_pattern(text).to_pattern() == {
        "dynamodb": {
            "NewImage": {"a": {"S": ["1"]}, "b": {"S": ["3"]}},
            "Keys": {"pk": {"S": ["k"]}},
            "OldImage": {"a": {"S": ["2"]}},
        },
        "eventName": ["MODIFY"],
    }


def test_identical_leaf_path_last_wins_and_moves_last() -> None:
    assert list(loads_pattern('{"a": ["x"], "b": ["y"], "a": ["z"]}').items()) == [
        ("b", ["y"]),
        ("a", ["z"]),
    ]
    assert json.loads('{"a": {"b": ["x"]}, "a": {"c": ["y"]}}') == {"a": {"c": ["y"]}}  # naive


def test_expansion_follows_event_ruler_or_forking_and_overriding() -> None:
    rules = expand(validate({"s": ["x"], "$or": [{"m": ["1"]}, {"t": ["2"], "u": ["3"]}]}).rule)
    assert [[name for name, _ in rule] for rule in rules] == [["m", "s"], ["s", "t", "u"]]
    rules = expand(validate({"a": {"b": ["1"]}, "a.b": ["2"]}).rule)
    assert [[(n, [c.operand for c in conds]) for n, conds in r] for r in rules] == [
        [("a.b", ["2"])]
    ]


def test_or_combinations_are_capped() -> None:
    pattern = {f"k{i}": {"$or": [{"a": ["1"]}, {"b": ["2"]}]} for i in range(11)}  # 2**11
    with pytest.raises(InvalidPattern, match="more than 1000 combinations"):
        Filter.from_pattern(pattern)
    Filter.from_pattern({f"k{i}": {"$or": [{"a": ["1"]}, {"b": ["2"]}]} for i in range(9)})


def test_length_limit_is_measured_on_compact_json() -> None:
    exact = {"a": ["x" * (4096 - len('{"a":[""]}'))]}
    spaced = json.dumps(exact, indent=4)
    assert len(spaced) > 4096
    assert len(Filter.from_pattern(spaced).to_json()) == 4096
    with pytest.raises(InvalidPattern, match="4097 characters"):
        Filter.from_pattern({"a": ["x" * (4097 - len('{"a":[""]}'))]})


def test_non_json_values_in_a_dict_pattern_are_rejected() -> None:
    from decimal import Decimal

    for bad in (Decimal("1"), {1, 2}, float("nan"), float("inf"), b"x"):
        with pytest.raises(InvalidPattern):
            Filter.from_pattern({"a": [bad]})
    with pytest.raises(InvalidPattern, match="not a string"):
        Filter.from_pattern({1: ["x"]})
    with pytest.raises(InvalidPattern, match="JSON text or a mapping"):
        Filter.from_pattern(["a"])  # type: ignore[arg-type]


def test_tuples_are_arrays_and_bytes_are_text() -> None:
    f = Filter.from_pattern({"a": ("x", {"numeric": (">", 1)})})
    assert f.to_pattern() == {"a": ["x", {"numeric": [">", 1]}]}
    assert Filter.from_pattern(b'{"a": ["x"]}') == Filter.from_pattern({"a": ["x"]})


def test_filter_is_an_immutable_value() -> None:
    a = Filter.from_pattern('{"b": ["2"], "a": ["1"]}')
    b = Filter.from_pattern({"a": ["1"], "b": ["2"]})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != Filter.from_pattern({"a": ["1"]})
    assert repr(a) == """Filter.from_pattern('{"b":["2"],"a":["1"]}')"""
    assert eval(repr(a), {"Filter": Filter}) == a
    with pytest.raises(AttributeError):
        a._text = "{}"  # type: ignore[misc]
    clone = pickle.loads(pickle.dumps(a))
    assert clone == a
    assert clone.matches({"a": "1", "b": "2"})


def test_to_pattern_returns_a_fresh_copy() -> None:
    f = Filter.from_pattern({"a": ["x"]})
    f.to_pattern()["a"].append("y")
    assert f.to_pattern() == {"a": ["x"]}
    assert f.to_json() == '{"a":["x"]}'


JSON_KEYS = st.sampled_from(["a", "b", "dynamodb", "N", "S", "x.y", "é"])
LEAF_ENTRIES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.builds(lambda s: {"prefix": s}, st.text(max_size=3)),
    st.builds(lambda s: {"anything-but": s}, st.lists(st.text(max_size=2), min_size=1)),
    st.builds(lambda n: {"numeric": [">=", n]}, st.integers()),
    st.just({"exists": False}),
)
GENERATED = st.recursive(
    st.dictionaries(JSON_KEYS, st.lists(LEAF_ENTRIES, min_size=1, max_size=3), min_size=1),
    lambda inner: st.one_of(
        st.dictionaries(JSON_KEYS, inner, min_size=1, max_size=3),
        st.builds(lambda a, b: {"$or": [a, b]}, inner, inner),
    ),
    max_leaves=6,
)


@given(GENERATED)
def test_to_json_round_trips_through_from_pattern(pattern: dict[str, Any]) -> None:
    f = Filter.from_pattern(pattern)
    again = Filter.from_pattern(f.to_json())
    assert again == f
    assert again.to_json() == f.to_json()
    assert Filter.from_pattern(f.to_pattern()) == f
    assert json.loads(f.to_json()) == pattern


def _chain(depth: int, leaf: Any) -> Any:
    pattern = leaf
    for _ in range(depth):
        pattern = {"": pattern}
    return pattern


def test_the_deepest_pattern_4096_characters_allow_works_as_dict_and_text() -> None:
    # {"":{"":...["x"]...}}: five characters a level, 818 levels fit in 4096
    deepest = _chain(818, ["x"])
    record = _chain(818, "x")
    for pattern in (deepest, json.dumps(deepest, separators=(",", ":"))):
        f = Filter.from_pattern(pattern)
        assert f.matches(record)
        assert not f.matches(_chain(818, "y"))
        assert Filter.from_pattern(f.to_json()) == f
        assert Filter.from_pattern(f.to_pattern()) == f
    with pytest.raises(InvalidPattern, match="4100 characters"):
        Filter.from_pattern(_chain(819, ["x"]))


def test_nesting_no_short_pattern_can_have_is_refused_naming_the_limit() -> None:
    for depth in (900, 5_000, 100_000):
        for pattern in (_chain(depth, ["x"]), '{"":' * depth):
            with pytest.raises(InvalidPattern, match=r"deeper than 823 levels.*4096") as info:
                Filter.from_pattern(pattern)
            assert len(info.value.path) <= 8
    cyclic: dict[str, Any] = {}
    cyclic["a"] = cyclic
    with pytest.raises(InvalidPattern, match="deeper than"):
        Filter.from_pattern(cyclic)


def test_a_number_too_long_for_a_pattern_is_refused() -> None:
    with pytest.raises(InvalidPattern, match="4096"):
        Filter.from_pattern({"a": [10**5000]})
    with pytest.raises(InvalidPattern, match="not valid JSON"):
        Filter.from_pattern('{"a": [' + "9" * 5000 + "]}")


def test_or_combinations_follow_the_nesting_of_or() -> None:
    # nested $or adds its branches' combinations: 2 + 2 * ... stays small, a product does not
    nested: Any = {"z": ["1"]}
    for i in range(200):
        nested = {"$or": [nested, {f"a{i % 3}": ["x"]}]}
    if len(json.dumps(nested, separators=(",", ":"))) <= 4096:
        assert Filter.from_pattern(nested).matches({"z": "1"})
    product = {f"k{i}": {"$or": [{"a": ["1"]}, {"b": ["2"]}]} for i in range(10)}
    with pytest.raises(InvalidPattern, match="more than 1000 combinations") as info:
        Filter.from_pattern(product)
    assert info.value.path == ("k9",)  # where the product of the combinations passes 1000


def test_pattern_text_parses_like_json_at_any_depth() -> None:
    from ddbstream.filters._json import dumps, loads

    deep = '{"a":' * 300 + '["x", 1, 2.5, true, null, "\\u00e9"]' + "}" * 300
    value = loads(deep)
    assert dumps(value) == json.dumps(json.loads(deep), separators=(",", ":"), ensure_ascii=False)
    for bad in ('{"a":' * 300 + "[NaN]" + "}" * 300, '{"a":' * 300 + "[1,]" + "}" * 300):
        with pytest.raises(InvalidPattern):
            Filter.from_pattern(bad)
