"""Arbitrary JSON-like input for the core fuzz targets (codec, records, router): what a caller,
a broken producer or a hostile event could hand the library.

Besides ordinary JSON values, it draws the shapes that found bugs before: values nested far
deeper than Python's recursion limit, very long strings, huge integers, numbers with enormous
exponents, and valid events with one field replaced by garbage.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

__all__ = ["corrupted", "deep", "deep_value", "json_like", "number_texts", "scalars"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**5000),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["", "S", "N", "M", "L", "NaN", "1e400", "0E-1000000000", "x" * 10_000]),
)


def _nest(depth: int, kind: str) -> Any:
    value: Any = {"S": "x"}
    for _ in range(depth):
        value = (
            {"M": {"a": value}} if kind == "M" else [value] if kind == "list" else {"L": [value]}
        )
    return value


#: A value nested ``depth`` levels, as descriptors (M or L) or as bare lists: deeper than any
#: DynamoDB document, yet shallow enough for the harness to deep-copy (``deep_value`` makes the
#: far deeper ones the direct tests use).
deep = st.builds(_nest, st.integers(30, 150), st.sampled_from(["M", "L", "list"]))


def deep_value(depth: int, kind: str) -> Any:
    """A value nested ``depth`` levels (``kind``: ``"M"``, ``"L"`` or ``"list"``)."""
    return _nest(depth, kind)


json_like = st.recursive(
    scalars | deep,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8) | st.sampled_from(list("SNBML")), children, max_size=4
        )
    ),
    max_leaves=20,
)

#: Number texts at and beyond DynamoDB's limits: any digits, any exponent.
number_texts = st.one_of(
    st.from_regex(r"[+-]?[0-9]{0,45}(\.[0-9]{0,45})?([eE][+-]?[0-9]{1,22})?", fullmatch=True),
    st.builds(
        lambda sign, digits, exponent: f"{sign}{digits}E{exponent}",
        st.sampled_from(["", "-"]),
        st.sampled_from(["0", "1", "9" * 38, "1" + "0" * 60, "0" * 50]),
        st.integers(-(10**19), 10**19),
    ),
)

#: Where a field of a Lambda stream record can be replaced.
RECORD_PATHS = [
    (),
    ("eventID",),
    ("eventName",),
    ("eventSource",),
    ("userIdentity",),
    ("dynamodb",),
    ("dynamodb", "Keys"),
    ("dynamodb", "NewImage"),
    ("dynamodb", "OldImage"),
    ("dynamodb", "SequenceNumber"),
    ("dynamodb", "StreamViewType"),
    ("dynamodb", "SizeBytes"),
    ("dynamodb", "ApproximateCreationDateTime"),
    ("dynamodb", "Keys", "pk"),
    ("dynamodb", "NewImage", "pk"),
    ("dynamodb", "OldImage", "pk"),
]


@st.composite
def corrupted(draw: st.DrawFn, event: Any) -> Any:
    """A copy of a Lambda event whose records have some fields replaced by JSON-like garbage."""
    out = copy.deepcopy(event)
    records = out["Records"]
    for _ in range(draw(st.integers(0, 3)) if records else 0):
        index = draw(st.integers(0, len(records) - 1))
        path = draw(st.sampled_from(RECORD_PATHS))
        value = draw(json_like)
        if not path:
            records[index] = value
            continue
        target = records[index]
        for key in path[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[path[-1]] = value
    return out
