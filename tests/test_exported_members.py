"""The public surface: each package's ``__all__`` is exactly what it defines, every export claims
its package as its module, and the names are pinned.

Two kinds of check. The derived ones compare ``__all__`` with what the package really defines
(its lazy table, the names its own imports bound, its submodules: ``_EXPORTS``, recorded by
``_lazy.attach``), so a name defined but not exported, or exported but defined nowhere, fails
without anyone keeping a second list in step. The pinned list is kept on purpose as well: adding
or removing a public name is an API change a reviewer must see in the diff, and a derived check
cannot tell a deliberate export from an accidental one.
"""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

PACKAGES = ["ddbstream", "ddbstream.aggregate", "ddbstream.filters", "ddbstream.runner"]
PACKAGES += ["ddbstream.project"]
PACKAGES += ["ddbstream.testing"]
PACKAGES += ["ddbstream.once"]

#: Exports that claim another package: the aggregate rework removes this duplicate (issue 14).
DUPLICATES = {("ddbstream.aggregate", "TransientError")}

SURFACE = {
    "ddbstream": [
        "AggregationError", "BatchItemFailure", "BatchResponse", "BatchResult", "BatchSummary",
        "Condition", "DDBStreamError", "DataError", "DecodeError", "EmfMetrics", "EncodeError",
        "EffectInProgress", "once",
        "EventName", "FailurePolicy", "FilterNotExpressible", "Image", "ImageValidationError",
        "InvalidPattern", "LambdaContext", "LimitExceeded", "MetricsSink", "MissingImageError",
        "ProjectionError", "project",
        "RecordFailure", "Route", "RouteCounts", "Router", "StreamEvent", "StreamRecord",
        "StreamViewType", "TransientError", "TumblingWindow", "UnparsedRecord", "UsageError",
        "Window", "__version__", "aggregate", "deserialize", "deserialize_image", "filters",
        "runner", "serialize", "serialize_image", "testing",
    ],
    "ddbstream.filters": [
        "Attribute", "Expression", "Filter", "FilterCriteria", "Finding", "LocalPredicate",
        "RecordField", "TypedAttributes", "approximate_creation_time", "canonical_number",
        "changed", "compile_filters", "event_name", "keys", "lint", "new_image", "old_image",
        "size_bytes", "to_cdk", "to_cloudformation", "to_criteria", "to_serverless",
        "to_terraform", "ttl_delete", "typed", "where",
    ],
    "ddbstream.aggregate": [
        "Additive", "AggregateResult", "AggregateSpec", "Aggregator", "Average", "Count",
        "DynamoDBSink", "GroupLedger", "Latest", "Ledger", "Max", "Measure", "MemorySink", "Min",
        "Retry", "Sequenced", "Sink", "Sum",
    ],
    "ddbstream.project": [
        "Change", "DynamoDBSink", "Failed", "MemorySink", "Outcome", "Projection",
        "ProjectionResult", "Sink", "Superseded", "Written", "version_text",
    ],
    "ddbstream.once": [
        "Claim", "ClaimState", "DynamoDBOutbox", "DynamoDBStore", "Entry", "Guarantee",
        "MemoryOutbox", "MemoryStore", "Once", "Outbox", "Store",
    ],
    "ddbstream.runner": [
        "CheckpointStore", "EventSourceMapping", "FailureFolder", "FailureRecord",
        "LambdaContext", "RedriveReport", "RedriveResult", "Retrying", "Runner", "RunnerStats",
        "failure_record", "redrive", "run",
    ],
    "ddbstream.testing": [
        "ChangeHistory", "DYNAMODB_LOCAL_NPM_VERSION", "Delivery", "DeliverySchedule",
        "DynamoDBLocal", "EventBuilder", "FakeLambdaContext", "LocalTable", "MakeTable",
        "dynamodb_local_env", "insert", "install_dynamodb_local", "kinesis_event",
        "lambda_event", "modify", "order_shards", "pipes_event", "read_stream", "remove",
        "strategies", "tumbling_window_event",
    ],
    "ddbstream.testing.strategies": [
        "ALL_TYPES", "attribute_values", "change_histories", "deliveries", "images", "items",
        "kinesis_events", "lambda_events", "pipes_events", "python_values", "stream_records",
    ],
}  # fmt: skip


@pytest.mark.parametrize("module_name", PACKAGES)
def test_all_is_exactly_what_the_package_defines(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert len(set(module.__all__)) == len(module.__all__), "a name is listed twice"
    assert set(module.__all__) == module._EXPORTS


def test_strategies_export_every_strategy_they_define() -> None:
    module = importlib.import_module("ddbstream.testing.strategies")
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and inspect.isfunction(value)
        and value.__module__ == module.__name__
    }
    assert defined <= set(module.__all__)
    assert set(module.__all__) - defined == {"ALL_TYPES", "change_histories", "deliveries"}


@pytest.mark.parametrize("module_name", sorted(SURFACE))
def test_the_surface_is_pinned(module_name: str) -> None:
    assert sorted(importlib.import_module(module_name).__all__) == sorted(SURFACE[module_name])


@pytest.mark.parametrize("module_name", sorted(SURFACE))
def test_every_export_resolves_and_claims_its_package(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        value = getattr(module, name)
        assert value is not None, name
        if isinstance(value, types.ModuleType):
            assert value.__name__ == f"{module_name}.{name}"
        elif module_name in PACKAGES and (inspect.isclass(value) or inspect.isfunction(value)):
            assert value.__module__ == module_name or (module_name, name) in DUPLICATES, name


def test_deprecated_names_still_resolve_with_a_warning() -> None:
    import ddbstream.testing
    from ddbstream.testing import strategies

    for name in ("change_histories", "deliveries"):
        with pytest.warns(DeprecationWarning, match=f"ddbstream.testing.strategies.{name}"):
            assert getattr(ddbstream.testing, name) is getattr(strategies, name)
        assert name not in ddbstream.testing.__all__
        assert name not in dir(ddbstream.testing)


def test_errors_form_one_tree() -> None:
    import ddbstream

    errors = [
        value
        for value in map(ddbstream.__getattribute__, ddbstream.__all__)
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    for error in errors:
        assert issubclass(error, ddbstream.DDBStreamError), error
        if error is ddbstream.DDBStreamError:
            continue
        builtin = {b for b in error.__mro__ if b.__module__ == "builtins"}
        assert builtin - {Exception, BaseException, object}, f"{error} resembles no builtin"
