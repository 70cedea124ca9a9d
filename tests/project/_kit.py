"""Drive a projection through ``ddbstream.testing`` delivery schedules, with crashes, and say
what the target must hold: the projection of the history's final table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st

from _delivery import Crash

ITEMS = st.fixed_dictionaries(
    {"n": st.integers(-3, 3)}, optional={"tag": st.sampled_from(["x", "y"]), "hide": st.just(True)}
)
KEYS = st.sampled_from([{"pk": k} for k in "abc"])


def copy_of(image: Mapping[str, Any]) -> dict[str, Any]:
    """The whole item, as a search copy would keep it."""
    return dict(image)


def moving(image: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """Target items whose key depends on a non-key attribute (a change moves them), two per
    source item, and none for hidden items."""
    if image.get("hide"):
        return None
    tag = image.get("tag", "none")
    return [
        {"pk": f"{tag}#{image['pk']}", "n": image["n"]},
        {"pk": f"all#{image['pk']}", "tag": tag},
    ]


def expected(
    final_table: Mapping[Any, Mapping[str, Any]], function: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in final_table.values():
        produced = function(item)
        out.extend(
            [] if produced is None else [produced] if isinstance(produced, dict) else produced
        )
    return sorted(out, key=lambda i: str(i["pk"]))


class Armed:
    """A fault hook that crashes once a number of writes have landed (0: before the first)."""

    def __init__(self) -> None:
        self.left: int | None = None

    def arm(self, writes: int | None) -> None:
        self.left = writes

    def before(self) -> None:
        if self.left == 0:
            self.left = None
            raise Crash("before any write")

    def after(self) -> None:
        if self.left is not None:
            self.left -= 1
            if self.left == 0:
                self.left = None
                raise Crash("after the armed number of landed writes")
