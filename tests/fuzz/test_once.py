"""Hardening of ``ddbstream.once`` (issue 11): whatever the record, whatever a key function
returns or raises, whatever message a handler records, ``Once`` and the outbox return or raise
a ``DDBStreamError`` in bounded time without changing their arguments; in a Router, a batch of
any event ends in a partial batch response with each key's effect run at most once."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ddbstream import DDBStreamError, Router, StreamRecord
from ddbstream.once import MemoryOutbox, MemoryStore, Once
from ddbstream.testing.strategies import lambda_events, python_values, stream_records

from ._bounds import call_bounded
from ._json_like import corrupted, json_like

KEY_RESULTS = st.one_of(json_like, python_values(), st.text(max_size=3000))


@given(raw=stream_records(), result=KEY_RESULTS, raises=st.booleans())
def test_key_of_any_record_and_key_function(raw: Any, result: Any, raises: bool) -> None:
    def key(record: StreamRecord[Any]) -> Any:
        if raises:
            raise LookupError(result)
        return result

    record = StreamRecord(raw)
    for once in (Once(MemoryStore()), Once(MemoryStore(), key=key)):
        out = call_bounded(once.key_of, record, namespace="ns")
        if not isinstance(out, DDBStreamError):
            assert isinstance(out, str)
            assert out.startswith("ns#")
            assert len(out.encode("utf-8", "surrogatepass")) <= 2048


@given(
    message_id=st.one_of(st.text(max_size=50), json_like),
    message=st.one_of(json_like, st.dictionaries(st.text(max_size=5), python_values(), max_size=4)),
)
def test_outbox_put_of_anything(message_id: Any, message: Any) -> None:
    outbox = MemoryOutbox()
    first = call_bounded(outbox.put, message_id, message)
    again = call_bounded(outbox.put, message_id, message)
    if first is True:
        assert again is False
        assert len(outbox.messages) == 1
    else:
        assert isinstance(first, DDBStreamError)
        assert outbox.messages == {}


@given(event=st.one_of(lambda_events(), lambda_events().flatmap(corrupted)))
def test_a_router_with_once_answers_any_event_and_runs_each_key_once(event: Any) -> None:
    router, runs = Router(), []

    @router.route(None)
    @Once(MemoryStore())
    def effect(record: StreamRecord[Any]) -> None:
        runs.append(record.sequence_number)

    first = call_bounded(router.handle, event)
    again = call_bounded(router.handle, event)
    if isinstance(first, dict):
        assert isinstance(again, dict)
        assert set(first) >= {"batchItemFailures"}
        assert len(runs) == len(set(runs))
