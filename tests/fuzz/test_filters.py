"""Fuzz targets for filters: patterns (JSON text and dicts, deep, wide, nested $or, repeated
operators, adversarial wildcards), records of arbitrary JSON and DSL expressions.

Every call must return or raise a ``DDBStreamError`` within its time bound and leave its
arguments unchanged (``call_bounded``); a pattern that validates must round-trip through
``to_json``/``from_pattern``, and its compiled matcher must agree with the general one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import DDBStreamError, InvalidPattern, LimitExceeded
from ddbstream.filters import (
    Expression,
    Filter,
    FilterCriteria,
    compile_filters,
    event_name,
    keys,
    lint,
    new_image,
    old_image,
    size_bytes,
)

from ._bounds import call_bounded, time_limit

KEYS = st.sampled_from(
    ["a", "b", "c", "dynamodb", "NewImage", "S", "N", "$or", "a.b", "", "prefix", "exists", "é"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=3), inner),
    max_leaves=12,
)
# records shaped like the valid patterns, so that they match some of the time
SHAPED = st.recursive(
    SCALARS | st.sampled_from(["a", "ab", "AB", "ba*", "é"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["a", "b", "c", "a.b", "dynamodb", "NewImage", "S"]), inner
        )
    ),
    max_leaves=16,
)
OPERATORS = st.sampled_from(
    [
        "prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists",
        "wildcard", "cidr", "exactly", "EXISTS", "$or",
    ]
)  # fmt: skip
NUMERIC = st.lists(st.sampled_from(["=", "<", "<=", ">", ">=", 0, 1, 2.5, -1, "x"]), max_size=5)
ENTRIES = st.one_of(
    SCALARS,
    st.builds(lambda op, operand: {op: operand}, OPERATORS, JSON | NUMERIC),
    st.builds(lambda op, text: {op: text}, OPERATORS, st.text(alphabet="ab*\\.", max_size=12)),
)
# a few entries, or one entry repeated many times (cheap to generate, costly to validate)
VALUE_LISTS = st.lists(ENTRIES, max_size=4) | st.builds(
    lambda entry, n: [entry] * n, ENTRIES, st.integers(50, 400)
)


def _with_or(branches: list[Any], rest: dict[str, Any]) -> dict[str, Any]:
    return {**rest, "$or": branches}


PATTERNS = st.recursive(
    st.dictionaries(KEYS, VALUE_LISTS, max_size=4),
    lambda inner: st.one_of(
        st.dictionaries(KEYS, inner | VALUE_LISTS | SCALARS, max_size=4),
        st.builds(_with_or, st.lists(inner, max_size=4), inner),
    ),
    max_leaves=16,
)
SAFE_KEYS = st.sampled_from(["a", "b", "c", "a.b", "dynamodb", "NewImage", "S"])
TEXT = st.text(alphabet="abAB*é.", max_size=4)
VALID_ENTRIES = st.one_of(
    SCALARS.filter(lambda v: not isinstance(v, float) or (v == v and abs(v) != float("inf"))),
    st.builds(lambda t: {"prefix": t}, TEXT),
    st.builds(lambda t: {"suffix": t}, TEXT),
    st.builds(lambda t: {"equals-ignore-case": t}, TEXT),
    st.builds(lambda ts: {"anything-but": ts}, st.lists(TEXT, min_size=1, max_size=3)),
    st.builds(lambda n: {"numeric": [">", n]}, st.integers(-5, 5)),
    st.builds(lambda b: {"exists": b}, st.booleans()),
    st.builds(lambda t: {"wildcard": t}, TEXT.filter(lambda t: "**" not in t)),
)
VALID_PATTERNS = st.recursive(
    st.dictionaries(SAFE_KEYS, st.lists(VALID_ENTRIES, min_size=1, max_size=4), min_size=1),
    lambda inner: st.one_of(
        st.dictionaries(SAFE_KEYS, inner, min_size=1, max_size=3),
        st.builds(_with_or, st.lists(inner, min_size=2, max_size=3), inner),
    ),
    max_leaves=16,
)
DYNAMODB_VALUES = st.recursive(
    st.sampled_from([{"S": "x"}, {"S": ""}, {"N": "1"}, {"BOOL": True}, {"NULL": True}]),
    lambda inner: (
        st.builds(lambda m: {"M": m}, st.dictionaries(KEYS, inner, max_size=3))
        | st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3))
    ),
    max_leaves=6,
)
STREAM_RECORDS = st.fixed_dictionaries(
    {
        "eventName": st.sampled_from(["INSERT", "MODIFY", "REMOVE", "x"]),
        "dynamodb": st.fixed_dictionaries(
            {"Keys": st.dictionaries(KEYS, DYNAMODB_VALUES, max_size=2)},
            optional={
                "NewImage": st.dictionaries(KEYS, DYNAMODB_VALUES, max_size=4),
                "OldImage": st.dictionaries(KEYS, DYNAMODB_VALUES, max_size=4),
                "SizeBytes": st.integers(0, 400) | SCALARS,
            },
        ),
    }
)
RECORDS = JSON | STREAM_RECORDS | SHAPED
NAMES = st.sampled_from(["a", "b", "c", "a.b", "prefix", "exists", "é"])
ATTRIBUTES = st.builds(
    lambda section, name: section(name), st.sampled_from([new_image, old_image, keys]), NAMES
)
LEAVES = st.one_of(
    st.builds(lambda a, v: a == v, ATTRIBUTES, st.text(max_size=3) | st.integers(-5, 5)),
    st.builds(lambda a, v: a.begins_with(v), ATTRIBUTES, st.text(max_size=3)),
    st.builds(lambda a, v: a.anything_but(v), ATTRIBUTES, st.text(max_size=3)),
    st.builds(lambda a: a.with_descriptor("S").not_exists(), ATTRIBUTES),
    st.builds(lambda v: event_name == v, st.sampled_from(["INSERT", "MODIFY", "REMOVE"])),
    st.builds(lambda n: size_bytes < n, st.integers(0, 500)),
)
EXPRESSIONS = st.recursive(
    LEAVES,
    lambda inner: (
        st.builds(lambda a, b: a & b, inner, inner)
        | st.builds(lambda a, b: a | b, inner, inner)
        | st.builds(lambda a: ~a, inner)
    ),
    max_leaves=12,
)


def _chain(depth: int, key: str, leaf: Any) -> Any:
    pattern = leaf
    for _ in range(depth):
        pattern = {key: pattern}
    return pattern


def _or_chain(depth: int) -> Any:
    pattern: Any = {"z": ["1"]}
    for i in range(depth):
        pattern = {"$or": [pattern, {f"a{i % 3}": ["x"]}]}
    return pattern


def _check_filter(pattern: Any, record: Any) -> None:
    """Build, round-trip, match, explain and lint, each call bounded."""
    found = call_bounded(Filter.from_pattern, pattern)
    if isinstance(found, DDBStreamError):
        assert isinstance(found, InvalidPattern), found
        return
    again = call_bounded(Filter.from_pattern, found.to_json())
    assert again == found
    assert call_bounded(Filter.from_pattern, found.to_pattern()) == found
    matched = call_bounded(found.matches, record)
    general = call_bounded(found._matcher.slow_matches, record)
    explained = call_bounded(found.explain, record)
    if not isinstance(matched, DDBStreamError):
        assert matched == general
        assert (explained is None) == matched
    call_bounded(lint, pattern)
    call_bounded(found.event_names)


@given(PATTERNS, RECORDS)
def test_generated_patterns_as_dicts(pattern: Any, record: Any) -> None:
    _check_filter(pattern, record)


@given(VALID_PATTERNS, RECORDS)
def test_valid_patterns(pattern: Any, record: Any) -> None:
    _check_filter(pattern, record)


@given(PATTERNS, RECORDS)
def test_generated_patterns_as_text(pattern: Any, record: Any) -> None:
    _check_filter(json.dumps(pattern), record)


@given(st.text(alphabet='{}[]":,$or ab\\*1.-', max_size=60), RECORDS)
def test_arbitrary_text(text: str, record: Any) -> None:
    _check_filter(text, record)
    call_bounded(FilterCriteria.from_json, text)


# around the limits: 681 and 818 levels are the deepest 4096 characters allow with a key "a"
# and ""; 80 is where the generated code stops and the general matcher serves alone
DEPTHS = st.sampled_from([1, 2, 24, 79, 80, 81, 300, 681, 682, 818, 819, 1500, 20_000])
DEEP_RECORDS = st.sampled_from([{}, {"a": "x"}, {"": {"": "x"}}, {"$or": [1]}])


@given(
    DEPTHS,
    st.sampled_from(["", "a", "dynamodb"]),
    st.sampled_from([["x"], [{"exists": False}], [{"wildcard": "*a*b"}]]),
    DEEP_RECORDS,
)
def test_deep_patterns_as_text(depth: int, key: str, leaf: Any, record: Any) -> None:
    _check_filter(json.dumps(_chain(depth, key, leaf)) if depth < 5000 else "{" * depth, record)
    _check_filter(json.dumps(_or_chain(min(depth, 300))), record)


@given(st.sampled_from([1, 24, 79, 80, 81, 150]), st.sampled_from(["", "a"]), DEEP_RECORDS)
def test_deep_patterns_as_dicts(depth: int, key: str, record: Any) -> None:
    # call_bounded copies and compares its arguments recursively: depth is kept within what
    # that can do; test_deepest_dicts goes deeper
    _check_filter(_chain(depth, key, ["x"]), record)
    _check_filter(_or_chain(depth // 2), record)


def _snapshot(value: Any) -> list[tuple[int, str, Any]]:
    """The structure of a nested value, without recursion (to see it is left unchanged)."""
    out, todo = [], [(0, value)]
    while todo:
        depth, node = todo.pop()
        if isinstance(node, dict):
            out.append((depth, "dict", tuple(node)))
            todo += [(depth + 1, child) for child in node.values()]
        elif isinstance(node, list):
            out.append((depth, "list", len(node)))
            todo += [(depth + 1, child) for child in node]
        else:
            out.append((depth, type(node).__name__, node))
    return out


@given(st.sampled_from([150, 681, 682, 818, 819, 5000]), st.sampled_from(["", "a"]))
def test_deepest_dicts(depth: int, key: str) -> None:
    pattern = _chain(depth, key, ["x"])
    record = _chain(depth, key, "x")
    before = (_snapshot(pattern), _snapshot(record))
    with time_limit(5):
        if depth * (len(key) + 5) + len('["x"]') > 4096:  # its compact JSON is too long
            with pytest.raises(InvalidPattern, match="4096"):
                Filter.from_pattern(pattern)
        else:
            found = Filter.from_pattern(pattern)
            assert found.matches(record) is True
            assert Filter.from_pattern(found.to_pattern()) == found
    assert (_snapshot(pattern), _snapshot(record)) == before


@given(
    st.text(alphabet="ab*", min_size=1, max_size=40).filter(lambda w: "**" not in w),
    st.integers(0, 3000),
    st.sampled_from(["a", "b", "ab"]),
)
def test_wildcards_run_in_linear_time(wildcard: str, length: int, tail: str) -> None:
    value = "a" * length + tail
    for entry in ({"wildcard": wildcard}, {"anything-but": {"wildcard": wildcard}}):
        found = Filter.from_pattern({"v": [entry]})
        call_bounded(found.matches, {"v": value}, seconds=0.2)


@given(st.lists(st.integers(1, 12), min_size=1, max_size=6), RECORDS)
def test_or_combinations_are_bounded(widths: list[int], record: Any) -> None:
    pattern = {
        f"k{i}": {"$or": [{f"f{j}": ["x"]} for j in range(width)]} for i, width in enumerate(widths)
    }
    _check_filter(pattern, record)


@given(st.sampled_from([1, 10, 100, 300, 2000]), RECORDS)
def test_wide_patterns(width: int, record: Any) -> None:
    _check_filter({f"k{i}": ["x", {"prefix": "y"}] for i in range(width)}, record)


@given(EXPRESSIONS, RECORDS)
def test_dsl_expressions(expr: Expression, record: Any) -> None:
    call_bounded(compile_filters, expr, max_filters=10)
    call_bounded(lambda r: expr.matches(r), record)
    call_bounded(repr, expr)


@given(st.sampled_from([new_image, old_image, keys]), JSON, JSON)
def test_builders_refuse_with_typed_errors(section: Any, name: Any, value: Any) -> None:
    attribute = call_bounded(section, name)
    if not isinstance(attribute, DDBStreamError):
        for build in (attribute.equals, attribute.begins_with, attribute.anything_but):
            call_bounded(build, value)


@given(st.integers(1, 300), st.booleans())
def test_deep_expressions_are_refused_in_bounded_time(depth: int, negate: bool) -> None:
    def build() -> Expression:
        expr: Expression = event_name == "INSERT"
        for i in range(depth):
            leaf = new_image(f"a{i % 5}") == "x"
            expr = (expr | leaf) if i % 2 else (expr & leaf)
            if negate:
                expr = ~expr
        return expr

    built = call_bounded(build)
    if isinstance(built, DDBStreamError):
        assert isinstance(built, LimitExceeded)
        return
    call_bounded(compile_filters, built, max_filters=10)
    call_bounded(lambda r: built.matches(r), {"eventName": "INSERT"})
