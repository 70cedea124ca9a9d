"""A small model of a table, its stream, and Lambda's at-least-once delivery, for property tests.

``histories()`` draws random writes to a few items (moving them between groups, in and out of
``where``) and returns the stream records plus the final table. ``deliver()`` plays those records
to a handler the way an event source mapping may: batches of random size, replays from an earlier
checkpoint, redelivery after a crash, resumption at the lowest failed record of a partial batch
response, and with ``lanes > 1`` per-item ordered interleaving (ParallelizationFactor > 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from _delivery import Crash
from ddbstream.testing import EventBuilder

GROUPS = ("A", "B", "C")
ITEMS = tuple(f"t{i}" for i in range(6))


@dataclass
class History:
    records: list[dict[str, Any]]
    table: dict[str, dict[str, Any]]

    def expected(self, where: Callable[[Mapping[str, Any]], bool]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for item in self.table.values():
            if not where(item):
                continue
            slot = out.setdefault(item["Group"], {"Total": Decimal(0), "Count": Decimal(0)})
            slot["Total"] += item["Amount"]
            slot["Count"] += 1
        return {
            g: {k: v for k, v in values.items() if v != 0}
            for g, values in out.items()
            if any(values.values())
        }


amounts = st.one_of(
    st.integers(-1000, 1000).map(Decimal),
    st.integers(-(10**6), 10**6).map(lambda n: Decimal(n).scaleb(-2)),
)


@st.composite
def histories(draw: st.DrawFn, *, max_ops: int = 30) -> History:
    builder = EventBuilder("Transactions", keys=("TransactionId",))
    table: dict[str, dict[str, Any]] = {}
    records = []
    for _ in range(draw(st.integers(1, max_ops))):
        tid = draw(st.sampled_from(ITEMS))
        if tid in table and draw(st.integers(0, 3)) == 0:
            records.append(builder.remove(table.pop(tid)))
            continue
        new = {
            "TransactionId": tid,
            "Group": draw(st.sampled_from(GROUPS)),
            "Amount": draw(amounts),
            "Status": draw(st.sampled_from(("ok", "ok", "void"))),
        }
        old = table.get(tid)
        if old == new:
            continue  # DynamoDB writes no stream record for a write that changes nothing
        records.append(builder.insert(new) if old is None else builder.modify(old, new))
        table[tid] = new
    return History(records, table)


def deliver(
    data: st.DataObject,
    records: list[dict[str, Any]],
    handler: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    lanes: int = 1,
    max_rounds: int = 400,
) -> int:
    """Deliver every record at least once; return the number of invocations."""
    lane_of = {}
    split: list[list[dict[str, Any]]] = [[] for _ in range(lanes)]
    for record in records:
        key = str(record["dynamodb"]["Keys"])
        lane = lane_of.setdefault(key, len(lane_of) % lanes)
        split[lane].append(record)
    cps = [0] * lanes
    rounds = 0
    while any(cp < len(lane) for cp, lane in zip(cps, split, strict=False)):
        rounds += 1
        assert rounds < max_rounds, "delivery did not converge"
        lane = data.draw(st.sampled_from([i for i in range(lanes) if cps[i] < len(split[i])]))
        cp, stream = cps[lane], split[lane]
        start = data.draw(st.integers(max(0, cp - 4), cp), label="replay from")
        end = max(cp + 1, start + data.draw(st.integers(1, 8), label="batch size"))
        batch = stream[start:end]
        try:
            response = handler({"Records": batch})
        except Crash:
            continue
        failures = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        ids = [r["dynamodb"]["SequenceNumber"] for r in batch]
        failed = [i for i, ident in enumerate(ids) if ident in failures]
        cps[lane] = max(cp, start + failed[0]) if failed else max(cp, start + len(batch))
    return rounds


def fault_hook(data: st.DataObject, budget: int) -> Callable[[Any, str], None]:
    """A sink fault hook drawing faults until ``budget`` runs out."""
    from ddbstream import TransientError

    left = [budget]

    def fault(tx: Any, phase: str) -> None:
        if left[0] <= 0:
            return
        kind = data.draw(st.sampled_from(("ok", "ok", "transient", "crash")), label=phase)
        if kind == "ok":
            return
        left[0] -= 1
        if kind == "transient":
            raise TransientError(f"injected {phase}")
        raise Crash(phase)

    return fault
