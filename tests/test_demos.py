"""The demo acts of the projection and outbox tutorials (``examples/*/demo.py``, run by
``make demo``) end with the tables their tutorials promise, on DynamoDB Local."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
pytestmark = pytest.mark.dynamodb_local


def _demo(name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import ``examples/<name>/demo.py`` (which imports its ``handler``) and forget both
    modules after, so that no other test imports this example's ``handler`` by mistake."""
    folder = EXAMPLES / name
    for variable in ("USERS_TABLE", "USER_SEARCH_TABLE", "OUTBOX_TABLE"):
        monkeypatch.setenv(variable, "unset")  # restored after the test, whatever the demo sets
    before = {
        module: sys.modules.pop(module) for module in ("handler", "demo") if module in sys.modules
    }
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(f"test_demo_{name}", folder / "demo.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(folder))
        for cached in ("handler", "demo"):
            sys.modules.pop(cached, None)
        sys.modules.update(before)


def test_user_fanout_demo_keeps_exactly_the_live_users(
    dynamodb_env: Any, dynamodb_client: Any, dynamodbstreams_client: Any, monkeypatch: Any
) -> None:
    text = _demo("user_fanout", monkeypatch).run_demo(dynamodb_client, dynamodbstreams_client)
    final = text.split("the whole stream redelivered")[1]
    assert "u1     | Ann Lee    | ann@example.com" in final
    assert "u3     | Cy again   | cy2@example.com" in final
    assert "u2" not in final
    assert text.count("the runner read") == 3


def test_welcome_email_demo_writes_one_message_per_new_user(
    dynamodb_env: Any, dynamodb_client: Any, dynamodbstreams_client: Any, monkeypatch: Any
) -> None:
    text = _demo("welcome_email", monkeypatch).run_demo(dynamodb_client, dynamodbstreams_client)
    final = text.split("the whole stream redelivered")[1].splitlines()[2:]
    assert final == ["  welcome#ann    | ann@example.com", "  welcome#cy     | cy@example.com"]
