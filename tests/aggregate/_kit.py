"""Drive an aggregator through ``ddbstream.testing`` delivery schedules (change_histories +
deliveries), and compute the totals the final table implies."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from ddbstream.aggregate import Aggregator, Count, Sum

GROUPED_ITEMS = st.fixed_dictionaries(
    {"n": st.integers(-50, 50).map(lambda n: Decimal(n).scaleb(-1))},
    optional={"g": st.sampled_from(["A", "B", "C"]), "void": st.just(True)},
)


def kit_aggregator(sink: Any) -> Aggregator:
    return Aggregator(
        group_by=lambda image: image.get("g"),
        where=lambda image: not image.get("void"),
        measures={"Total": Sum("n"), "Count": Count()},
        sink=sink,
    )


def expected_from(final_table: Mapping[Any, Mapping[str, Any]]) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Decimal]] = {}
    for item in final_table.values():
        if item.get("void") or item.get("g") is None:
            continue
        slot = out.setdefault(item["g"], {"Total": Decimal(0), "Count": Decimal(0)})
        slot["Total"] += item["n"]
        slot["Count"] += 1
    return {
        g: {k: v for k, v in values.items() if v != 0}
        for g, values in out.items()
        if any(values.values())
    }
