"""The DSL's builders, operators, build-time errors, repr and local evaluation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ddbstream import FilterNotExpressible, StreamEvent, UsageError
from ddbstream.filters import (
    Expression,
    LocalPredicate,
    approximate_creation_time,
    canonical_number,
    changed,
    event_name,
    keys,
    new_image,
    old_image,
    size_bytes,
    ttl_delete,
    where,
)


def record(
    name: str = "MODIFY",
    *,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    ddb: dict[str, Any] = {"Keys": {"pk": {"S": "USER#1"}}, "SequenceNumber": "1"}
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    ddb.update(extra.pop("dynamodb", {}))
    return {"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": ddb, **extra}


# -- descriptors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "leaf"),
    [
        (new_image("s") == "SHIPPED", {"S": ["SHIPPED"]}),
        (new_image("s") == Decimal("12.50"), {"N": ["12.5"]}),
        (new_image("s") == 100, {"N": ["100"]}),
        (new_image("s") == 1.5, {"N": ["1.5"]}),
        (new_image("s") == True, {"BOOL": [True]}),  # noqa: E712
        (new_image("s") == False, {"BOOL": [False]}),  # noqa: E712
        (new_image("s") == b"hi", {"B": ["aGk="]}),
        (new_image("s").is_in("a", "b"), {"S": ["a", "b"]}),
        (new_image("s").null(), {"NULL": [True]}),
        (new_image("s").empty(), {"S": [""]}),
        (new_image("s").begins_with("x"), {"S": [{"prefix": "x"}]}),
        (new_image("s").ends_with("x"), {"S": [{"suffix": "x"}]}),
        (new_image("s").equals_ignore_case("x"), {"S": [{"equals-ignore-case": "x"}]}),
        (new_image("s").anything_but("a", "b"), {"S": [{"anything-but": ["a", "b"]}]}),
        (new_image("s") != "a", {"S": [{"anything-but": ["a"]}, {"exists": False}]}),
        (new_image("s", descriptor="S").exists(), {"S": [{"exists": True}]}),
        (new_image("s", descriptor="N").not_exists(), {"N": [{"exists": False}]}),
        (new_image("s", descriptor="N").begins_with("12"), {"N": [{"prefix": "12"}]}),
        (new_image("s")["city"] == "Paris", {"M": {"city": {"S": ["Paris"]}}}),
        (new_image("s")["a"]["b"] == 1, {"M": {"a": {"M": {"b": {"N": ["1"]}}}}}),
    ],
)
def test_the_descriptor_comes_from_the_operand(expr: Expression, leaf: dict[str, Any]) -> None:
    assert expr.to_patterns() == [{"dynamodb": {"NewImage": {"s": leaf}}}]


def test_keys_old_image_and_metadata_paths() -> None:
    assert (keys("pk").begins_with("USER#")).to_patterns() == [
        {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "USER#"}]}}}}
    ]
    assert (old_image("amount") == Decimal("12.50")).to_patterns() == [
        {"dynamodb": {"OldImage": {"amount": {"N": ["12.5"]}}}}
    ]
    assert event_name.is_in("INSERT", "MODIFY").to_patterns() == [
        {"eventName": ["INSERT", "MODIFY"]}
    ]
    assert ttl_delete().to_patterns() == [
        {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
    ]


def test_numeric_comparisons_on_metadata_fields() -> None:
    when = dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc)
    assert (approximate_creation_time >= when).to_patterns() == [
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">=", 1717977600]}]}}
    ]
    assert size_bytes.between(10, 20).to_patterns() == [
        {"dynamodb": {"SizeBytes": [{"numeric": [">=", 10, "<=", 20]}]}}
    ]
    assert (size_bytes == 3).to_patterns() == [{"dynamodb": {"SizeBytes": [{"numeric": ["=", 3]}]}}]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("12.50"), "12.5"),
        (Decimal("0012"), "12"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.0"), "0"),
        (Decimal("1.0E-3"), "0.001"),
        (0.1, "0.1"),
        (7, "7"),
    ],
)
def test_canonical_number(value: Decimal | float | int, text: str) -> None:
    assert canonical_number(value) == text


# -- loud at build time -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: new_image("amount") > 5, "compares N values as strings"),
        (lambda: new_image("amount") <= 5, "where(lambda r:"),
        (lambda: old_image("amount").between(1, 2), "compares N values as strings"),
        (lambda: new_image("a").exists(), "needs the attribute's type"),
        (lambda: new_image("a", descriptor="M").exists(), "non-leaf"),
        (lambda: new_image("a") == None, "null()"),  # noqa: E711
        (lambda: new_image("a").is_in("x", 1), "mixes value types"),
        (lambda: new_image("a", descriptor="N") == "x", "can never match"),
        (lambda: new_image("a", descriptor="BOOL").begins_with("t"), "never matches"),
        (lambda: new_image("a", descriptor="S").null(), "never NULL"),
        (lambda: keys("pk") == True, "S, N or B"),  # noqa: E712
        (lambda: event_name == "insert", "can never match"),
        (lambda: event_name > "A", "needs a number field"),
        (lambda: size_bytes == "5", "JSON number"),
        (lambda: new_image("a") == float("nan"), "finite"),
        (lambda: new_image("a") == Decimal("1E+200"), "cannot be stored"),
        (lambda: new_image("a") == [1], "cannot compare"),
        (lambda: approximate_creation_time > dt.datetime(2024, 1, 1), "naive"),
        (lambda: size_bytes.between(5, 1), "is empty"),
        (lambda: new_image("a", descriptor="SS") == "x", "a set"),
    ],
)
def test_impossible_filters_fail_when_built(build: Any, message: str) -> None:
    with pytest.raises(FilterNotExpressible, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_misuse_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no truth value"):
        bool(new_image("a") == "x")
    with pytest.raises(UsageError, match="at least one"):
        new_image("a").is_in()
    with pytest.raises(UsageError, match="non-empty"):
        new_image("")
    with pytest.raises(UsageError, match="descriptor"):
        new_image("a", descriptor="X")
    with pytest.raises(UsageError, match="StreamRecord"):
        (new_image("a") == "x").matches(42)


# -- composition --------------------------------------------------------------------------------


def test_combinations_flatten_and_repr_rebuilds() -> None:
    a, b, c = new_image("a") == "x", new_image("b") == "y", event_name == "INSERT"
    expr = (a & b) & (c & a)
    assert repr(expr) == (
        "(new_image('a') == 'x') & (new_image('b') == 'y') & (event_name == 'INSERT') & "
        "(new_image('a') == 'x')"
    )
    mixed = ~(a | b) & ~ttl_delete() & new_image("c", descriptor="S").exists() | c
    rebuilt = eval(repr(mixed))
    assert rebuilt == mixed
    assert hash(rebuilt) == hash(mixed)
    assert ~~a == a


def test_local_predicates_stay_local() -> None:
    expr = new_image("a") == "x"
    combined = expr & changed("a")
    assert isinstance(combined, LocalPredicate)
    assert isinstance(changed("a") | expr, LocalPredicate)
    assert isinstance(~changed("a"), LocalPredicate)
    assert not isinstance(combined, Expression)
    assert not hasattr(combined, "to_patterns")
    assert repr(combined) == "(new_image('a') == 'x') & changed('a')"


def test_changed_and_where_evaluate_locally() -> None:
    modify = record(
        new={"a": {"S": "x"}, "n": {"N": "1"}}, old={"a": {"S": "y"}, "n": {"N": "1.0"}}
    )
    assert changed("a").matches(modify)
    assert not changed("n").matches(modify)  # same number, different text
    assert (changed("a") & (new_image("a") == "x")).matches(modify)
    assert not (changed("a") & (new_image("a") == "y")).matches(modify)
    assert where(lambda r: r.new_image["n"] == 1).matches(modify)
    assert (~where(lambda r: r.event_name == "INSERT")).matches(modify)
    insert = record("INSERT", new={"a": {"S": "x"}})
    assert changed("a").matches(insert)
    with pytest.raises(UsageError):
        changed("a").matches(record("MODIFY", new={"a": {"S": "x"}}))


def test_matches_accepts_a_stream_record() -> None:
    raw = record(new={"a": {"S": "x"}})
    parsed = StreamEvent.from_lambda({"Records": [raw]}).records[0]
    assert (new_image("a") == "x").matches(parsed)
    assert not (new_image("a") == "y").matches(parsed)


# -- local semantics follow Lambda --------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "rec", "expected"),
    [
        (new_image("a") != "x", record("REMOVE", old={"a": {"S": "x"}}), True),
        (new_image("a").anything_but("x"), record("REMOVE", old={"a": {"S": "x"}}), False),
        (new_image("a") == "1", record(new={"a": {"N": "1"}}), False),
        (new_image("a") == 1, record(new={"a": {"N": "1"}}), True),
        (new_image("a") == Decimal("1.50"), record(new={"a": {"N": "1.5"}}), True),
        (new_image("a").null(), record(new={"a": {"NULL": True}}), True),
        (new_image("a").empty(), record(new={"a": {"NULL": True}}), False),
        (new_image("a", descriptor="S").not_exists(), record(new={"a": {"N": "1"}}), True),
        (new_image("a").equals_ignore_case("ab"), record(new={"a": {"S": "aB"}}), True),
        (
            ttl_delete(),
            record(
                "REMOVE", userIdentity={"type": "Service", "principalId": "dynamodb.amazonaws.com"}
            ),
            True,
        ),
        (~ttl_delete(), record("REMOVE"), True),
        (size_bytes > 5, record(dynamodb={"SizeBytes": 6}), True),
        (size_bytes > 5, record(), False),
        (size_bytes <= 5, record(), False),
        (~(size_bytes > 5), record(), True),
        (
            new_image("t", descriptor="SS").contains("b"),
            record(new={"t": {"SS": ["a", "b"]}}),
            True,
        ),
        (
            new_image("t", descriptor="SS").contains("c"),
            record(new={"t": {"SS": ["a", "b"]}}),
            False,
        ),
        (
            new_image("l", descriptor="L").contains(2),
            record(new={"l": {"L": [{"S": "2"}, {"N": "2"}]}}),
            True,
        ),
        (
            new_image("l", descriptor="L").contains("x"),
            record(new={"l": {"L": [{"N": "2"}]}}),
            False,
        ),
    ],
)
def test_local_evaluation(expr: Expression, rec: dict[str, Any], expected: bool) -> None:
    # the first call walks the expression, later ones run the compiled patterns
    assert [expr.matches(rec) for _ in range(3)] == [expected] * 3
    assert expr._walk(rec) is expected


def test_matches_compiles_once_and_falls_back_to_the_walk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ddbstream.filters._criteria as criteria_module  # where the matchers are compiled

    calls: list[Expression] = []
    real = criteria_module.compile_filters

    def counting(expr: Expression, *, max_filters: int = 5) -> list[dict[str, Any]]:
        calls.append(expr)
        return real(expr, max_filters=max_filters)

    monkeypatch.setattr(criteria_module, "compile_filters", counting)
    shipped = record(new={"a": {"S": "SHIPPED"}})
    expr = (event_name == "MODIFY") & (new_image("a") == "SHIPPED")
    parsed = StreamEvent.from_lambda({"Records": [shipped]}).records[0]
    results = [expr.matches(shipped), expr.matches(record()), expr.matches(parsed)]
    assert results == [True, False, True]
    assert calls == [expr]  # compiled once, on first use
    same = (event_name == "MODIFY") & (new_image("a") == "SHIPPED")
    assert same.matches is expr.matches  # an equal expression shares the matcher
    assert calls == [expr]
    # Lambda has no operator for a prefix AND a suffix on one field: the walk answers
    both = new_image("a").begins_with("S") & new_image("a").ends_with("ED")
    assert [both.matches(shipped) for _ in range(3)] == [True] * 3
    assert not both.matches(record(new={"a": {"S": "SHIPPING"}}))
    assert calls == [expr, both]  # the refusal is remembered, not retried
    # so is an expression that matches every record (no criteria to compile to)
    anything = (new_image("a") == "x") | (new_image("a") != "x")
    assert [anything.matches(record()) for _ in range(3)] == [True] * 3
    with pytest.raises(UsageError):
        expr.matches(42)


def test_matches_is_a_function_fetched_once() -> None:
    expr = (event_name == "MODIFY") & (new_image("a") == "SHIPPED")
    match = expr.matches
    assert match is expr.matches  # the same compiled function on every access
    parsed = StreamEvent.from_lambda({"Records": [record(new={"a": {"S": "SHIPPED"}})]})
    assert match(parsed.records[0]) is True
    assert match(record()) is False
    local = changed("a") | (event_name == "INSERT")
    assert local.matches(record(new={"a": {"S": "B"}}, old={"a": {"S": "A"}})) is True


def test_expressions_nest_at_most_64_levels() -> None:
    from ddbstream import LimitExceeded

    expr = event_name == "INSERT"
    for i in range(64):
        leaf = new_image(f"a{i % 3}") == "x"
        expr = (expr | leaf) if i % 2 else (expr & leaf)
    assert "a0" in repr(expr)
    with pytest.raises(LimitExceeded, match="64 levels"):
        expr & (expr | (new_image("b") == "y"))
    flat = event_name == "INSERT"
    for i in range(500):  # one operator: a flat chain, one level
        flat = flat | (new_image(f"a{i}") == "x")
    assert len(repr(flat)) > 500


def test_an_attribute_named_or_cannot_be_filtered() -> None:
    with pytest.raises(FilterNotExpressible, match=r"\$or"):
        new_image("$or")


def test_the_shared_operators_read_the_same_on_every_builder() -> None:
    for field, value in ((new_image("s"), "ab"), (event_name, "INSERT")):
        assert repr(field.begins_with("a")) == f"{field!r}.begins_with('a')"
        assert repr(field.is_in(value)) == f"{field!r}.is_in({value!r})"
        assert repr(field.anything_but(value)) == f"{field!r}.anything_but({value!r})"
        assert repr(field != value) == f"~({field!r} == {value!r})"
        with pytest.raises(UsageError, match="at least one value"):
            field.is_in()
