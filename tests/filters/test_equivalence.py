"""Property: a DSL expression and its compiled FilterCriteria agree on every record.

``expr._walk(record)`` is the DSL's own evaluator (a walk of the expression tree); the compiled
patterns are evaluated by the pattern layer (``Filter.from_pattern(p).matches``), ORed over
filters as Lambda does. ``expr.matches`` runs the compiled patterns when the expression compiles
and the walk otherwise, so it must agree with the walk on every expression.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ddbstream import FilterNotExpressible, LimitExceeded
from ddbstream.filters import (
    Attribute,
    Expression,
    Filter,
    approximate_creation_time,
    compile_filters,
    event_name,
    keys,
    lint,
    new_image,
    old_image,
    size_bytes,
    ttl_delete,
)
from ddbstream.filters._json import dumps


def _oracle(pattern: dict[str, Any]) -> Callable[[Any], bool]:
    return Filter.from_pattern(pattern).matches


# -- records ------------------------------------------------------------------------------------

TEXTS = ["", "a", "ab", "ba", "A", "Ab", "b"]
NUMBERS = ["0", "1", "12.5", "-3"]
scalar_values = st.one_of(
    st.builds(lambda s: {"S": s}, st.sampled_from(TEXTS)),
    st.builds(lambda n: {"N": n}, st.sampled_from(NUMBERS)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
)
attribute_values = st.one_of(
    scalar_values,
    st.builds(lambda m: {"M": m}, st.dictionaries(st.sampled_from(["x", "y"]), scalar_values)),
)
collections = st.one_of(
    st.builds(lambda v: {"SS": sorted(v)}, st.sets(st.sampled_from(TEXTS[1:]), min_size=1)),
    st.builds(
        lambda v: {"L": v}, st.lists(st.one_of(scalar_values, st.just({"L": []})), max_size=3)
    ),
)
images = st.builds(
    lambda plain, extra: {**plain, **extra},
    st.dictionaries(st.sampled_from(["a", "b", "c"]), attribute_values, max_size=3),
    st.dictionaries(st.sampled_from(["t", "l"]), collections),
)
key_values = st.one_of(
    st.builds(lambda s: {"S": s}, st.sampled_from(TEXTS)),
    st.builds(lambda n: {"N": n}, st.sampled_from(NUMBERS)),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    ddb: dict[str, Any] = {"Keys": {"pk": draw(key_values)}, "SequenceNumber": "1"}
    for name, values in (
        ("ApproximateCreationDateTime", st.sampled_from([1, 2, 3, 2.5, 1700000000.0])),
        ("SizeBytes", st.integers(0, 6)),
        ("NewImage", images),
        ("OldImage", images),
    ):
        if draw(st.booleans()):
            ddb[name] = draw(values)
    record: dict[str, Any] = {
        "eventName": draw(st.sampled_from(["INSERT", "MODIFY", "REMOVE"])),
        "eventSource": "aws:dynamodb",
        "dynamodb": ddb,
    }
    identity = draw(
        st.dictionaries(
            st.sampled_from(["type", "principalId"]),
            st.sampled_from(["Service", "User", "dynamodb.amazonaws.com"]),
        )
    )
    if identity or draw(st.booleans()):
        record["userIdentity"] = identity
    return record


RECORD_BATCHES = st.lists(records(), min_size=12, max_size=12)

# -- expressions --------------------------------------------------------------------------------

texts = st.sampled_from(TEXTS)


def _attributes() -> st.SearchStrategy[Attribute]:
    image = st.sampled_from([new_image, old_image])
    names = st.sampled_from(["a", "b", "c"])
    plain = st.builds(lambda f, n: f(n), image, names)
    nested = st.builds(lambda f, n, k: f(n)[k], image, names, st.sampled_from(["x", "y"]))
    return st.one_of(plain, nested, st.just(keys("pk")))


def _image_leaf(attr: Attribute, draw: st.DrawFn) -> Expression:
    op = draw(st.integers(0, 11))
    if op == 0:
        return attr == draw(texts)
    if op == 1:
        return attr == draw(st.sampled_from([Decimal("12.50"), 1, 0, -3, 12.5]))
    if op == 2:
        return attr.is_in(*draw(st.lists(texts, min_size=1, max_size=3)))
    if op == 3:
        return attr.begins_with(draw(texts))
    if op == 4:
        return attr.ends_with(draw(texts))
    if op == 5:
        return attr.equals_ignore_case(draw(texts))
    if op == 6:
        return attr.anything_but(*draw(st.lists(texts, min_size=1, max_size=2)))
    if op == 7:
        return attr != draw(texts)
    descriptor = draw(st.sampled_from(["S", "N"]))
    typed = attr.with_descriptor(descriptor)
    if op == 8:
        return typed.exists()
    if op == 9:
        return typed.not_exists()
    if repr(attr).startswith("keys("):
        return attr == draw(texts)
    if op == 10:
        return attr == draw(st.booleans())
    return draw(st.sampled_from([attr.null(), attr.empty()]))


_NAMES = st.sampled_from(["INSERT", "MODIFY", "REMOVE"])
EVENT_NAME_LEAVES = st.one_of(
    st.builds(lambda v: event_name == v, _NAMES),
    st.builds(lambda v: event_name.is_in(*v), st.lists(_NAMES, min_size=1)),
    st.builds(lambda v: event_name.anything_but(*v), st.lists(_NAMES, min_size=1)),
    st.builds(lambda v: event_name.begins_with(v), st.sampled_from(["IN", "M", ""])),
)
ATTRIBUTES = _attributes()
_SETS = st.builds(lambda f: f("t", descriptor="SS"), st.sampled_from([new_image, old_image]))
_LISTS = st.builds(lambda f: f("l", descriptor="L"), st.sampled_from([new_image, old_image]))
COLLECTION_LEAVES = st.one_of(
    st.builds(lambda a, v: a.contains(*v), _SETS, st.lists(texts, min_size=1, max_size=2)),
    st.builds(lambda a: a.exists(), _SETS),
    st.builds(lambda a: a.not_exists(), _SETS),
    st.builds(lambda a, v: a.contains(*v), _LISTS, st.lists(texts, min_size=1, max_size=2)),
    st.builds(lambda a, v: a.contains(v), _LISTS, st.sampled_from([1, Decimal("12.5"), True])),
)


@st.composite
def leaves(draw: st.DrawFn) -> Expression:
    which = draw(st.integers(0, 5))
    if which <= 1:
        return _image_leaf(draw(ATTRIBUTES), draw)
    if which == 2:
        return draw(EVENT_NAME_LEAVES)
    if which == 3:
        return draw(st.sampled_from([ttl_delete(), ~ttl_delete()]))
    if which == 4:
        return draw(COLLECTION_LEAVES)
    field = draw(st.sampled_from([size_bytes, approximate_creation_time]))
    n = draw(st.sampled_from([0, 1, 2, 2.5, 3, Decimal("1.5")]))
    return draw(
        st.sampled_from(
            [
                field < n,
                field <= n,
                field > n,
                field >= n,
                field == n,
                field != n,
                field.between(n, n + 2),
                field.anything_but(n, 3),
                field.exists(),
                field.not_exists(),
            ]
        )
    )


expressions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a | b, inner, inner),
        st.builds(lambda a: ~a, inner),
    ),
    max_leaves=8,
)


def _compiled(expr: Expression) -> list[dict[str, Any]]:
    try:
        return compile_filters(expr, max_filters=10)
    except (FilterNotExpressible, LimitExceeded):
        assume(False)
        raise AssertionError("unreachable") from None


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(expr=expressions, data=st.data())
def test_compiled_patterns_agree_with_the_expression(expr: Expression, data: st.DataObject) -> None:
    patterns = _compiled(expr)
    assert all(len(dumps(p)) <= 4096 for p in patterns)
    # the compiler never writes what the linter calls broken (an image that the event name
    # rules out is the user's contradiction, which only lint reports)
    errors = {f.code for f in lint(patterns) if f.severity == "error"}
    assert errors <= {"image-on-insert", "image-on-remove"}, (expr, patterns, errors)
    matchers = [_oracle(p) for p in patterns]
    for record in data.draw(RECORD_BATCHES):
        expected = expr._walk(record)
        assert any(m(record) for m in matchers) == expected, (expr, patterns, record)
        assert expr.matches(record) == expected, (expr, patterns, record)


@given(expr=expressions, batch=RECORD_BATCHES)
def test_matches_agrees_with_the_walk_compiled_or_not(
    expr: Expression, batch: list[dict[str, Any]]
) -> None:
    # every expression, including those that do not compile (matches() then walks the tree)
    for record in [*batch, *batch]:
        assert expr.matches(record) == expr._walk(record), (expr, record)


@pytest.mark.parametrize(
    "expr",
    [
        ~(new_image("a") == "x") & ~(new_image("b") == "y"),
        (new_image("a").begins_with("a") & new_image("a").begins_with("ab"))
        | (event_name == "INSERT"),
        ~(approximate_creation_time > dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)),
        ((new_image("a") == "x") | (new_image("b") == "y"))
        & ((new_image("a") == "z") | (old_image("c") == "w")),
    ],
)
def test_known_shapes_agree(expr: Expression) -> None:
    patterns = compile_filters(expr)
    matchers = [_oracle(p) for p in patterns]

    @given(records())
    def check(record: dict[str, Any]) -> None:
        assert any(m(record) for m in matchers) == expr._walk(record), (patterns, record)
        assert expr.matches(record) == expr._walk(record), (patterns, record)

    check()
