"""The public surface is pinned: adding or removing a name is a deliberate, reviewed change."""

from __future__ import annotations

import importlib

import pytest

SURFACE = {
    "ddbstream": [
        "AggregationError", "BatchItemFailure", "BatchResponse", "BatchResult", "BatchSummary",
        "DDBStreamError",
        "DataError", "DecodeError", "EmfMetrics", "EncodeError", "EventName", "FailurePolicy",
        "FilterNotExpressible", "Image", "ImageValidationError", "InvalidPattern",
        "LimitExceeded", "MetricsSink", "RecordFailure",
        "Route", "Router", "StreamEvent", "StreamRecord", "StreamViewType", "TransientError",
        "TumblingWindow", "UsageError", "Window", "__version__", "aggregate", "deserialize",
        "deserialize_image", "filters", "runner", "serialize", "serialize_image", "testing",
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
    "ddbstream.runner": [
        "CheckpointStore", "EventSourceMapping", "LambdaContext", "Runner", "RunnerStats",
        "failure_record", "run",
    ],
    "ddbstream.testing": [
        "ChangeHistory", "DYNAMODB_LOCAL_NPM_VERSION", "Delivery", "DeliverySchedule",
        "DynamoDBLocal", "EventBuilder", "FakeLambdaContext", "LocalTable", "MakeTable",
        "change_histories", "deliveries", "dynamodb_local_env", "insert",
        "install_dynamodb_local", "kinesis_event", "lambda_event", "modify", "order_shards",
        "pipes_event", "read_stream", "remove", "strategies", "tumbling_window_event",
    ],
}  # fmt: skip


@pytest.mark.parametrize("module_name", sorted(SURFACE))
def test_all_is_pinned_and_sorted(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(SURFACE[module_name])
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("module_name", sorted(SURFACE))
def test_every_exported_name_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def test_public_classes_claim_their_public_module() -> None:
    import ddbstream

    for name in ddbstream.__all__:
        value = getattr(ddbstream, name)
        if isinstance(value, type):
            assert value.__module__ in {"ddbstream", "ddbstream.aggregate"}, name
    assert ddbstream.Router.__module__ == "ddbstream"
    assert ddbstream.DecodeError.__module__ == "ddbstream"


def test_errors_form_one_tree() -> None:
    import ddbstream

    errors = [getattr(ddbstream, n) for n in ddbstream.__all__ if n.endswith("Error")]
    errors += [ddbstream.InvalidPattern, ddbstream.FilterNotExpressible, ddbstream.LimitExceeded]
    for error in errors:
        assert issubclass(error, ddbstream.DDBStreamError), error
        if error is ddbstream.DDBStreamError:
            continue
        builtin = {b for b in error.__mro__ if b.__module__ == "builtins"}
        assert builtin - {Exception, BaseException, object}, f"{error} resembles no builtin"
