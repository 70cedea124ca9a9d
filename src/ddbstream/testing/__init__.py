"""Testing kit for code that consumes DynamoDB streams.

* An event builder for unit tests: :func:`insert`, :func:`modify`, :func:`remove` make records
  from plain Python items; :func:`lambda_event`, :func:`pipes_event`, :func:`kinesis_event` and
  :func:`tumbling_window_event` wrap them in the envelope a handler receives; :class:`EventBuilder`
  numbers records across events; :class:`FakeLambdaContext` is a context with a deadline.
* Hypothesis strategies, all in :mod:`ddbstream.testing.strategies` (values, items, records,
  events, and ``change_histories`` / ``deliveries``: random consistent histories of a table
  and the at-least-once delivery schedules Lambda could make of them); :class:`ChangeHistory`,
  :class:`Delivery` and :class:`DeliverySchedule` are what those two draw.
* DynamoDB Local: :class:`DynamoDBLocal`, :func:`install_dynamodb_local`, :func:`read_stream`,
  plus pytest fixtures registered by the ``ddbstream`` pytest plugin.

Everything is imported on first use: ``import ddbstream.testing`` loads neither hypothesis, nor
pytest, nor boto3.

Example:
    >>> from ddbstream import StreamEvent
    >>> from ddbstream.testing import insert, lambda_event
    >>> StreamEvent.from_lambda(lambda_event(insert({"pk": "a"}))).records[0].keys["pk"]
    'a'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:
    from . import strategies
    from ._context import FakeLambdaContext
    from ._events import (
        EventBuilder,
        insert,
        kinesis_event,
        lambda_event,
        modify,
        pipes_event,
        remove,
        tumbling_window_event,
    )
    from ._histories import ChangeHistory, Delivery, DeliverySchedule
    from ._local import (
        DYNAMODB_LOCAL_NPM_VERSION,
        DynamoDBLocal,
        dynamodb_local_env,
        install_dynamodb_local,
    )
    from ._plugin import LocalTable, MakeTable
    from ._streams import order_shards, read_stream

__all__ = [
    "DYNAMODB_LOCAL_NPM_VERSION",
    "ChangeHistory",
    "Delivery",
    "DeliverySchedule",
    "DynamoDBLocal",
    "EventBuilder",
    "FakeLambdaContext",
    "LocalTable",
    "MakeTable",
    "dynamodb_local_env",
    "insert",
    "install_dynamodb_local",
    "kinesis_event",
    "lambda_event",
    "modify",
    "order_shards",
    "pipes_event",
    "read_stream",
    "remove",
    "strategies",
    "tumbling_window_event",
]

_LAZY: dict[str, str] = {
    "FakeLambdaContext": "._context",
    "EventBuilder": "._events",
    "insert": "._events",
    "kinesis_event": "._events",
    "lambda_event": "._events",
    "modify": "._events",
    "pipes_event": "._events",
    "remove": "._events",
    "tumbling_window_event": "._events",
    "ChangeHistory": "._histories",
    "Delivery": "._histories",
    "DeliverySchedule": "._histories",
    "DYNAMODB_LOCAL_NPM_VERSION": "._local",
    "DynamoDBLocal": "._local",
    "dynamodb_local_env": "._local",
    "install_dynamodb_local": "._local",
    "LocalTable": "._plugin",
    "MakeTable": "._plugin",
    "order_shards": "._streams",
    "read_stream": "._streams",
}


__getattr__, __dir__ = attach(
    __name__,
    _LAZY,
    submodules=["strategies"],
    deprecated={
        "change_histories": (".strategies", "ddbstream.testing.strategies.change_histories"),
        "deliveries": (".strategies", "ddbstream.testing.strategies.deliveries"),
    },
)
