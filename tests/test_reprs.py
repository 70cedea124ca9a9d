"""Values and callables shown in messages and reprs: bounded in size and depth, never failing."""

from __future__ import annotations

import functools

from hypothesis import given
from hypothesis import strategies as st

from ddbstream._reprs import name_of, short_repr


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class Recursive:
    def __repr__(self) -> str:
        return repr(self)


def test_anything_renders_in_bounded_size() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    for value in (
        deep,
        "x" * 10**6,
        10**10_000,
        Unprintable(),
        Recursive(),
        {i: i for i in range(10**4)},
    ):
        assert len(short_repr(value)) <= 120
    assert short_repr(10**10_000) == "<int of 33220 bits>"


@given(
    st.recursive(
        st.none() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_short_values_render_as_repr(value: object) -> None:
    text = short_repr(value, limit=10**9)
    if len(repr(value)) <= 40 and "..." not in text:
        assert text == repr(value)


def test_names_of_callables() -> None:
    def local(record: object) -> None: ...

    class Handler:
        def __call__(self, record: object) -> None: ...

    assert name_of(local) == "local"
    assert name_of(Handler) == "Handler"
    assert name_of(Handler()) == "Handler"
    assert name_of(functools.partial(local, 1)) == "partial(local)"
    assert name_of(print) == "print"
    assert name_of(lambda r: r) == "<lambda>"
