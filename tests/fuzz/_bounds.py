"""The promise every fuzz target checks: on any input a call returns, or raises a
``DDBStreamError``, within a time bound, and leaves its arguments as it found them.

``make fuzz`` runs the targets under the ``fuzz`` hypothesis profile (many more examples, with
statistics); ``make test`` runs them under the ordinary profile.
"""

from __future__ import annotations

import contextlib
import copy
import pickle
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ddbstream import DDBStreamError

__all__ = ["Hang", "call_bounded", "time_limit"]

T = TypeVar("T")


class Hang(BaseException):
    """Raised into the test when a call runs far past its bound (a BaseException, so that no
    ``except Exception`` in the code under test swallows it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block with :class:`Hang` after ``seconds`` (main thread, POSIX)."""

    def _alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call_bounded(
    fn: Callable[..., T],
    *args: Any,
    seconds: float = 1.0,
    hang_after: float | None = None,
    **kwargs: Any,
) -> T | DDBStreamError:
    """Call ``fn``; return its result, or the ``DDBStreamError`` it raised.

    Fails the test when ``fn`` raises anything else, uses more than ``seconds`` of CPU time
    (on two calls, so that a one-off stall of a loaded machine is not reported),
    changes its arguments, or is still running after ``hang_after`` seconds of wall time
    (default: twenty times the bound, at least 10 s; it is then interrupted). The bound is CPU
    time so that a loaded machine (parallel workers, other jobs) does not fail a call that is
    fast, while a call that is quadratic or exponential in its input still does.
    """
    before = copy.deepcopy((args, kwargs))
    start = time.process_time()
    try:
        with time_limit(hang_after if hang_after is not None else max(20 * seconds, 10.0)):
            try:
                result: T | DDBStreamError = fn(*args, **kwargs)
            except DDBStreamError as exc:
                str(exc)  # the message must render, whatever the bad value
                repr(exc)
                result = exc
    except Hang as exc:
        raise AssertionError(f"{getattr(fn, '__qualname__', fn)} hung: {exc}") from None
    except Exception as exc:
        raise AssertionError(
            f"{getattr(fn, '__qualname__', fn)} raised {type(exc).__name__}, not a "
            f"DDBStreamError: {str(exc)[:300]}"
        ) from exc
    used = time.process_time() - start
    if used > seconds:  # once more, so that a one-off stall of the machine is not a finding
        again = copy.deepcopy((args, kwargs))
        start = time.process_time()
        with contextlib.suppress(DDBStreamError), time_limit(max(20 * seconds, 10.0)):
            fn(*again[0], **again[1])
        used = min(used, time.process_time() - start)
    assert used <= seconds, f"{getattr(fn, '__qualname__', fn)} took {used:.2f} s of CPU, twice"
    assert _same((args, kwargs), before), f"{getattr(fn, '__qualname__', fn)} changed its arguments"
    return result


def _same(a: object, b: object) -> bool:
    """Equal, counting NaN equal to itself (a fuzzed float may be one)."""
    return a == b or pickle.dumps(a) == pickle.dumps(b)
