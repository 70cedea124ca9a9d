"""A projection :class:`Sink` as the exactly-once core's writer.

The core hands over writes (one target item's newest change each, with a watermark span per
source item behind it); the sink answers per change. A :class:`Superseded` answer means the
target holds that version: every part at or below it was applied by an earlier delivery (or is
older than what is there), which is what the core's ``Stale`` says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .._errors import TransientError, UsageError
from .._settle import APPLIED, Outcome, Rejected, Retried, Stale, Write
from ._sink import Change, Failed, Sink, Superseded, Written

__all__ = ["SinkWriter", "log"]

log = logging.getLogger("ddbstream.project")


class SinkWriter:
    """Sends the core's writes to a projection sink and reads its answers."""

    __slots__ = ("sink",)

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def commit(self, writes: Sequence[Write[Change]]) -> list[Outcome]:
        if not writes:
            return []
        answers = list(self.sink.write([w.effect for w in writes]))
        if len(answers) != len(writes):
            raise UsageError(
                f"{self.sink!r}.write answered {len(answers)} outcomes for {len(writes)} "
                "changes: a sink answers one outcome per change, in order"
            )
        return [_outcome(write, answer) for write, answer in zip(writes, answers, strict=True)]


def _outcome(write: Write[Change], answer: object) -> Outcome:
    if isinstance(answer, Written):
        return APPLIED
    if isinstance(answer, Superseded):
        return Stale({mark.lane: answer.version for mark in write.marks})
    if isinstance(answer, Failed):
        if isinstance(answer.error, TransientError):
            return Retried(answer.error)
        return Rejected(answer.error)
    raise UsageError(
        f"a projection sink answered {answer!r}: answer Written(), Superseded(version) or "
        "Failed(error) for each change"
    )
