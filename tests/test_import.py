"""``import ddbstream`` stays light: no boto3, botocore, pydantic, hypothesis or pytest.

Each check runs in a fresh interpreter, because the test process itself has imported pytest
and hypothesis long before.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "pydantic", "hypothesis", "pytest")

# What a Lambda handler module typically does at import time.
STATEMENTS = (
    "import ddbstream",
    "import ddbstream.testing",
    "import ddbstream.filters",
    "from ddbstream import StreamEvent, StreamRecord, Image, deserialize, DecodeError",
)


def _heavy_modules_after(statement: str) -> list[str]:
    code = (
        "import json, sys\n"
        f"{statement}\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


@pytest.mark.parametrize("statement", STATEMENTS)
def test_import_loads_no_heavy_module(statement: str) -> None:
    assert _heavy_modules_after(statement) == []


def test_the_check_sees_heavy_modules() -> None:
    # The probe must be able to fail: importing pydantic directly is reported.
    assert "pydantic" in _heavy_modules_after("import ddbstream, pydantic")
