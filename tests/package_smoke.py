"""Smoke checks run *inside* a fresh virtualenv that has the built wheel installed (not editable).

Run by ``tests/test_package.py`` with the venv's interpreter::

    python tests/package_smoke.py bare 0.1.0        # the wheel alone (typing-extensions only)
    python tests/package_smoke.py pydantic 0.1.0 examples/readme

It imports nothing from the source tree (the working directory is a temporary folder), prints
one ``ok: ...`` line per check and exits non-zero on the first failed assertion.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HEAVY = {"boto3", "botocore", "pydantic", "pydantic_core", "hypothesis", "pytest"}


def _top_level(names: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in names}


def _third_party(loaded: set[str]) -> set[str]:
    return _top_level(loaded) - set(sys.stdlib_module_names) - {"__main__"}


def check_import(version: str) -> None:
    before = set(sys.modules)
    import ddbstream

    loaded = _third_party(set(sys.modules) - before)
    assert loaded <= {"ddbstream", "typing_extensions"}, f"import ddbstream loaded {sorted(loaded)}"
    assert ddbstream.__version__ == version, (ddbstream.__version__, version)
    installed = Path(ddbstream.__file__).resolve()
    assert "site-packages" in installed.parts, f"not the installed wheel: {installed}"
    print(f"ok: import ddbstream {version} from {installed.parent}: stdlib + {sorted(loaded)}")


def check_untyped_router() -> None:
    from ddbstream import Router
    from ddbstream.testing import insert, lambda_event, modify

    router = Router()
    seen: list[str] = []
    router.add(None, lambda record: seen.append(record.keys["pk"]))
    old, new = {"pk": "a", "n": 1}, {"pk": "a", "n": 2}
    response = router.handle(lambda_event(insert(old), modify(old, new)), None)
    assert response == {"batchItemFailures": []}, response
    assert seen == ["a", "a"], seen
    assert not HEAVY & _top_level(set(sys.modules)), sorted(HEAVY & _top_level(set(sys.modules)))
    print("ok: an untyped Router runs a batch without pydantic or boto3")


def _names_extra(exc: BaseException | None, extra: str) -> bool:
    from ddbstream import UsageError

    return isinstance(exc, UsageError) and f"pip install 'ddbstream[{extra}]'" in str(exc)


def _error_of(action: Callable[[], object]) -> Exception | None:
    try:
        action()
    except Exception as exc:
        return exc
    return None


def check_typed_route_names_pydantic() -> None:
    from ddbstream import Router, StreamEvent
    from ddbstream.testing import insert, lambda_event

    @dataclasses.dataclass
    class Order:
        pk: str

    event = lambda_event(insert({"pk": "a"}))
    record = StreamEvent.from_lambda(event, model=Order).records[0]
    error = _error_of(lambda: record.new)
    assert _names_extra(error, "pydantic"), repr(error)

    router = Router()
    router.add(None, lambda record: None, model=Order)
    results = []
    error = _error_of(lambda: results.append(router.process(event, None)))
    if results:
        # The router reports the record as failed (Lambda retries it), with the error that names
        # the extra in its log line: not processed, not silent.
        failures = [{"itemIdentifier": record.item_identifier}]
        assert results[0].response() == {"batchItemFailures": failures}, results[0].response()
        error = results[0].failed[0].exception
    assert _names_extra(error, "pydantic"), repr(error)
    print("ok: a typed route without pydantic fails with UsageError naming ddbstream[pydantic]")


def check_dynamodb_sink_names_aws() -> None:
    from ddbstream.aggregate import Aggregator, DynamoDBSink, Sum
    from ddbstream.testing import insert, lambda_event

    totals = Aggregator(
        group_by=lambda image: image["pk"],
        measures={"n": Sum("n")},
        sink=DynamoDBSink("Totals", key="pk"),
    )
    error = _error_of(lambda: totals.handle(lambda_event(insert({"pk": "a", "n": 1})), None))
    assert _names_extra(error, "aws"), repr(error)
    print("ok: DynamoDBSink without boto3 raises UsageError naming ddbstream[aws]")


def check_testing_extra() -> None:
    import ddbstream.testing

    error = _error_of(lambda: ddbstream.testing.strategies)
    assert _names_extra(error, "testing"), repr(error)
    print("ok: ddbstream.testing.strategies without hypothesis names ddbstream[testing]")


def check_readme_handler(examples: Path) -> None:
    spec = importlib.util.spec_from_file_location("readme_handler", examples / "handler.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    event: Any = json.loads((examples / "handler_event.json").read_text())
    expected = json.loads((examples / "handler_response.json").read_text())
    response = module.handler(event, None)
    assert response == expected, response
    print(f"ok: the README handler returns {json.dumps(response)}")


def main(argv: list[str]) -> int:
    mode, version = argv[0], argv[1]
    check_import(version)
    check_untyped_router()
    if mode == "bare":
        check_typed_route_names_pydantic()
        check_dynamodb_sink_names_aws()
        check_testing_extra()
    else:
        check_readme_handler(Path(argv[2]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
