"""ddbstream.aggregate._plan: per-item units and their packing into bounded transactions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ddbstream.aggregate import Aggregator, Sum
from ddbstream.aggregate._delta import Change
from ddbstream.aggregate._plan import pack, transaction, units_of, waves

SPEC = Aggregator(group_by=lambda i: i["g"], measures={"T": Sum("n")})

changes_lists = st.lists(
    st.tuples(
        st.integers(0, 6),  # item
        st.sets(st.integers(0, 9), max_size=2),  # groups touched
        st.integers(-3, 3),
    ),
    max_size=40,
)


def _changes(raw: list[tuple[int, set[int], int]]) -> list[Change]:
    return [
        Change(
            index=i,
            identifier=str(i),
            sequence=100 + i,
            item=("T", (("pk", str(item)),)),
            deltas={g: {"T": Decimal(n or 1)} for g in groups},
        )
        for i, (item, groups, n) in enumerate(raw)
    ]


@given(
    raw=changes_lists,
    max_actions=st.integers(3, 8),
    marks=st.booleans(),
    max_items=st.none() | st.integers(1, 3),
    separate=st.booleans(),
)
def test_chunks_respect_the_limits_and_keep_items_whole(
    raw: Any, max_actions: int, marks: bool, max_items: int | None, separate: bool
) -> None:
    units = units_of(_changes(raw), max_groups=max_actions - (1 if marks else 0))
    chunks = pack(
        units, max_actions=max_actions, marks=marks, max_items=max_items, separate_groups=separate
    )
    assert [u for chunk in chunks for u in chunk] == units
    for chunk in chunks:
        groups = set().union(*(u.groups for u in chunk))
        assert len(groups) + (len(chunk) if marks else 0) <= max_actions or len(chunk) == 1
        assert len({u.item for u in chunk}) == len(chunk)
        if max_items is not None and len(chunk) > 1:
            for g in groups:
                assert sum(g in u.groups for u in chunk) <= max_items
        tx = transaction(SPEC, chunk, marks=marks)
        assert tx.actions <= max_actions
    for unit in units:  # records of an item in sequence order, no empty unit
        seqs = [c.sequence for c in unit.changes]
        assert seqs == sorted(seqs)
        assert any(c.deltas for c in unit.changes)


def test_only_items_with_an_effect_get_a_unit_and_duplicates_are_dropped() -> None:
    changes = _changes([(1, {0}, 1), (2, set(), 0), (1, {0}, 2)])
    duplicate = Change(
        index=9, identifier="9", sequence=100, item=changes[0].item, deltas=changes[0].deltas
    )
    units = units_of([*changes, duplicate], max_groups=5)
    assert [(u.item, u.first, u.last) for u in units] == [(changes[0].item, 100, 102)]


def test_inline_transactions_write_every_touched_group_with_its_items_watermarks() -> None:
    up = Change(
        index=0,
        identifier="0",
        sequence=5,
        item=("T", (("pk", "a"),)),
        deltas={"A": {"T": Decimal(1)}},
    )
    down = Change(
        index=1,
        identifier="1",
        sequence=7,
        item=("T", (("pk", "a"),)),
        deltas={"A": {"T": Decimal(-1)}, "B": {"T": Decimal(1)}},
    )
    (unit,) = units_of([up, down], max_groups=5)
    tx = transaction(SPEC, [unit], marks=False, inline=True)
    assert tx.groups == (("A", {}), ("B", {"T": Decimal(1)}))
    assert [(g, [(m.first, m.last) for m in ms]) for g, ms in tx.inline] == [
        ("A", [(5, 7)]),
        ("B", [(7, 7)]),
    ]
    assert tx.token != transaction(SPEC, [unit], marks=True).token


@given(
    raw=changes_lists,
    max_actions=st.integers(3, 8),
    marks=st.booleans(),
    width=st.integers(1, 4),
)
def test_waves_hold_chunks_of_disjoint_items_and_groups_in_order(
    raw: Any, max_actions: int, marks: bool, width: int
) -> None:
    units = units_of(_changes(raw), max_groups=max_actions - (1 if marks else 0))
    chunks = pack(units, max_actions=max_actions, marks=marks, separate_groups=width > 1)
    assert [u for chunk in chunks for u in chunk] == units
    planned = waves(chunks, width=width)
    assert [c for wave in planned for c in wave] == chunks
    for wave in planned:
        assert 1 <= len(wave) <= width
        for i, first in enumerate(wave):
            for second in wave[i + 1 :]:
                assert not {u.item for u in first} & {u.item for u in second}
                assert not set().union(*(u.groups for u in first)) & set().union(
                    *(u.groups for u in second)
                )


def test_a_chunk_is_cut_before_the_units_sharing_a_group_with_the_next() -> None:
    # items 0, 1 in group 0; items 2, 3, 4 in group 1; each unit: 1 group + 1 watermark
    raw = [(0, {0}, 1), (1, {0}, 1), (2, {1}, 1), (3, {1}, 1), (4, {1}, 1)]
    units = units_of(_changes(raw), max_groups=5)
    chunks = pack(units, max_actions=6, marks=True, separate_groups=True)
    assert [[u.item[1][0][1] for u in c] for c in chunks] == [["0", "1"], ["2", "3", "4"]]
    dense = pack(units, max_actions=6, marks=True)
    assert [[u.item[1][0][1] for u in c] for c in dense] == [["0", "1", "2", "3"], ["4"]]
    assert len(waves(chunks, width=2)) == 1
    assert len(waves(chunks, width=1)) == 2
