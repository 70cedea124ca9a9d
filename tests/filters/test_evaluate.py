"""Local evaluation with event-ruler semantics: the case corpus, fast path = general path,
and algebraic properties ($or, exists)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import UsageError
from ddbstream.filters import Filter

CASES = json.loads((Path(__file__).parent / "cases" / "matching.json").read_text())


def _filter(case: dict[str, Any]) -> Filter:
    return Filter.from_pattern(case["pattern_text"] if "pattern_text" in case else case["pattern"])


@pytest.mark.parametrize("case", CASES, ids=[f"{c['group']}: {c['note']}" for c in CASES])
def test_case_corpus(case: dict[str, Any]) -> None:
    f = _filter(case)
    assert f.matches(case["record"]) is case["expected"]
    assert f._matcher.slow_matches(case["record"]) is case["expected"]
    explanation = f.explain(case["record"])
    assert (explanation is None) is case["expected"], explanation


def test_corpus_covers_every_group() -> None:
    groups = {c["group"] for c in CASES}
    assert groups >= {
        "exact", "null", "empty", "prefix", "suffix", "eic", "anything-but", "numeric",
        "exists", "wildcard", "cidr", "or", "dotted", "arrays", "ttl", "duplicates",
    }  # fmt: skip
    assert len(CASES) >= 150


def test_stream_record_is_evaluated_through_its_lambda_record() -> None:
    from ddbstream import StreamEvent

    raw = next(c["record"] for c in CASES if c["group"] == "ttl" and c["expected"])
    record = StreamEvent.from_lambda({"Records": [raw]}).records[0]
    ttl = Filter.from_pattern({"userIdentity": {"type": ["Service"]}})
    assert ttl.matches(record)
    assert ttl.explain(record) is None
    assert not Filter.from_pattern({"eventName": ["INSERT"]}).matches(record)


def test_other_mappings_are_records_too() -> None:
    from types import MappingProxyType

    f = Filter.from_pattern({"a": {"b": ["x"]}})
    assert f.matches(MappingProxyType({"a": MappingProxyType({"b": "x"})}))
    assert not f.matches(MappingProxyType({"a": {"b": "y"}}))


def test_a_non_record_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not int"):
        Filter.from_pattern({"a": ["x"]}).matches(3)


def test_explain_names_path_operator_and_value() -> None:
    f = Filter.from_pattern(
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"s": {"S": [{"prefix": "SHIP"}]}}}}
    )
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"s": {"S": "NEW"}}}}
    assert f.explain(record) == 'dynamodb.NewImage.s.S: "NEW" does not match [{"prefix":"SHIP"}]'
    missing = f.explain({"eventName": "INSERT", "dynamodb": {}})
    assert missing is not None
    assert missing.startswith("dynamodb.NewImage.s.S: no value")
    absent = Filter.from_pattern({"a": [{"exists": False}]}).explain({"a": 1})
    assert absent == 'a: 1 does not match [{"exists":false}]'


def test_explain_reports_array_consistency_and_or_branches() -> None:
    f = Filter.from_pattern({"L": {"a": ["x"], "b": ["y"]}})
    reason = f.explain({"L": [{"a": "x"}, {"b": "y"}]})
    assert reason is not None
    assert "array consistency" in reason
    g = Filter.from_pattern({"$or": [{"a": ["1"]}, {"b": ["2"]}]})
    reason = g.explain({"a": "0"})
    assert reason is not None
    assert reason.startswith("no $or alternative matched: [1] a:")
    assert "[2] b: no value" in reason


def test_deep_pattern_uses_the_closure_fast_path() -> None:
    deep: dict[str, Any] = {"z": ["x"]}
    record: dict[str, Any] = {"z": "x"}
    for _ in range(40):
        deep, record = {"k": deep}, {"k": record}
    f = Filter.from_pattern(deep)
    assert f.matches(record)
    assert not f.matches({"k": {"k": "x"}})


def test_many_or_combinations_generate_their_code_on_the_first_match() -> None:
    # 10 x 10 x 10 = 1000 sub-rules: generating their code when the pattern is built would take
    # about a second, so it is deferred to the first match (validation stays fast)
    pattern = {
        "$or": [{f"a{i}": ["x"]} for i in range(10)],
        "b": {"$or": [{f"b{i}": ["x"]} for i in range(10)]},
        "c": {"$or": [{f"c{i}": [{"prefix": "x"}]} for i in range(10)]},
    }
    f = Filter.from_pattern(pattern)
    records = [
        {"a9": "x", "b": {"b9": "x"}, "c": {"c9": "xy"}},
        {"a0": "x", "b": {"b5": "x"}, "c": {"c9": "y"}},
        {"a0": "y", "b": {"b5": "x"}, "c": {"c0": "x"}},
        {"a3": "x", "b": [{"b1": "x"}], "c": {"c3": "x"}},
        {"a3": "x", "b.b1": "x", "c": {"c3": "x"}},
        {"eventName": "INSERT"},
    ]
    expected = [True, False, False, True, True, False]
    assert [f.matches(r) for r in records] == expected
    assert [f._matcher.slow_matches(r) for r in records] == expected
    assert [f.matches(r) for r in records] == expected  # the generated code, reused


# --------------------------------------------------------------------------- properties

KEYS = st.sampled_from(["a", "b", "c"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.0]),
    st.sampled_from(["", "x", "xy", "X", "a.b", "1"]),
)
RECORD_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(KEYS | st.just("a.b"), inner, max_size=3)
    ),
    max_leaves=12,
)
RECORDS = st.dictionaries(KEYS | st.just("a.b"), RECORD_VALUES, max_size=3)
ENTRIES = st.one_of(
    SCALARS,
    st.sampled_from(
        [
            {"prefix": "x"},
            {"suffix": "y"},
            {"exists": True},
            {"exists": False},
            {"anything-but": "x"},
            {"anything-but": [1, 2]},
            {"numeric": [">", 0, "<=", 2]},
            {"equals-ignore-case": "x"},
            {"wildcard": "x*"},
        ]
    ),
)
PATTERNS = st.recursive(
    st.dictionaries(KEYS, st.lists(ENTRIES, min_size=1, max_size=3), min_size=1, max_size=2),
    lambda inner: st.dictionaries(KEYS, inner, min_size=1, max_size=2),
    max_leaves=4,
)
PATTERN_KEYS = KEYS | st.just("a.b")
RICH_PATTERNS = st.recursive(
    st.dictionaries(
        PATTERN_KEYS, st.lists(ENTRIES, min_size=1, max_size=3), min_size=1, max_size=3
    ),
    lambda inner: st.one_of(
        st.dictionaries(PATTERN_KEYS, inner, min_size=1, max_size=3),
        st.builds(lambda a, b, rest: {**rest, "$or": [a, b]}, inner, inner, inner),
    ),
    max_leaves=6,
)


@given(RICH_PATTERNS, RECORDS)
def test_fast_path_agrees_with_the_general_matcher(pattern: Any, record: Any) -> None:
    f = Filter.from_pattern(pattern)
    assert f.matches(record) == f._matcher.slow_matches(record)
    assert (f.explain(record) is None) == f.matches(record)


@given(PATTERNS, PATTERNS, RECORDS)
def test_or_of_two_patterns_is_the_or_of_their_matches(p1: Any, p2: Any, record: Any) -> None:
    either = Filter.from_pattern({"$or": [p1, p2]})
    expected = Filter.from_pattern(p1).matches(record) or Filter.from_pattern(p2).matches(record)
    assert either.matches(record) == expected


@given(st.lists(KEYS, min_size=1, max_size=3), RECORDS)
def test_exists_false_is_not_exists_true(path: list[str], record: Any) -> None:
    def at(value: bool) -> Filter:
        pattern: Any = [{"exists": value}]
        for key in reversed(path):
            pattern = {key: pattern}
        return Filter.from_pattern(pattern)

    assert at(False).matches(record) == (not at(True).matches(record))


@given(
    st.sampled_from(["a", "A", "ß", "SS", "ǅ", "İ", "k", "\u212a", "é", "É"]), st.text(max_size=3)
)
def test_equals_ignore_case_folds_each_pattern_character(char: str, text: str) -> None:
    f = Filter.from_pattern({"v": [{"equals-ignore-case": char}]})
    assert f.matches({"v": char.lower()})
    assert f.matches({"v": char.upper()})
    expected = text in {char.lower(), char.upper()}
    assert f.matches({"v": text}) == expected


def test_wildcards_match_without_backtracking() -> None:
    # a backtracking regex takes minutes on this; the segment matcher answers at once
    f = Filter.from_pattern({"v": [{"wildcard": "*a*a*a*a*a*a*b"}]})
    assert not f.matches({"v": "a" * 120})
    assert f.matches({"v": "a" * 120 + "b"})
    but = Filter.from_pattern({"v": [{"anything-but": {"wildcard": "*a*a*a*a*a*a*b"}}]})
    assert but.matches({"v": "a" * 120})
    assert not but.matches({"v": "a" * 6 + "xb"})


@given(st.text(alphabet="ab*", min_size=1, max_size=8), st.text(alphabet="ab", max_size=10))
def test_wildcard_is_a_glob(wildcard: str, value: str) -> None:
    import fnmatch

    if "**" in wildcard:
        return
    f = Filter.from_pattern({"v": [{"wildcard": wildcard}]})
    assert f.matches({"v": value}) == fnmatch.fnmatchcase(value, wildcard)


def test_generated_code_shows_in_tracebacks() -> None:
    import linecache

    f = Filter.from_pattern({"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": ["a"]}}}})
    source = "".join(linecache.getlines(f.matches.__code__.co_filename))
    assert "def match(r):" in source
    assert "'eventName'" in source


def test_array_consistency_is_polynomial() -> None:
    # ten fields that each match in every element of a 30-element array, and an eleventh that
    # matches nowhere: trying every combination of elements would never end
    pattern = {"L": {f"f{i}": ["x"] for i in range(10)} | {"g": ["y"]}}
    record = {"L": [{f"f{i}": "x" for i in range(10)} for _ in range(30)]}
    f = Filter.from_pattern(pattern)
    assert not f.matches(record)
    record["L"][7]["g"] = "y"
    assert f.matches(record)


def test_a_pattern_that_writes_a_field_twice_keeps_the_later_write() -> None:
    # event-ruler's withOverriding: the $or branch's a replaces the outer one in that branch
    f = Filter.from_pattern({"a": ["x"], "$or": [{"a": ["y"]}, {"b": ["z"]}]})
    assert f.matches({"a": "y"})
    assert f.matches({"a": "x", "b": "z"})
    assert not f.matches({"a": "x"})
    assert f.matches == f._matcher.slow_matches  # the general matcher alone, no generated code
