"""Export to CloudFormation/SAM, CDK, Serverless and Terraform: each tool reads back exactly
the patterns of ``FilterCriteria.to_dict()``; a SAM template passes cfn-lint."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ddbstream.filters import (
    Filter,
    FilterCriteria,
    to_cdk,
    to_cloudformation,
    to_serverless,
    to_terraform,
)

yaml = pytest.importorskip("yaml")  # PyYAML comes with cfn-lint (dev extra)

AWKWARD = Filter.from_pattern(
    {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {
            "NewImage": {
                "it's.a": {"S": ["O'Brien", 'say "hi"', "back\\slash", "yes", "${x}", "é😀\u2028"]},
                "on": {"BOOL": [True]},
                "qty": {"N": [{"prefix": "1"}, "0"]},
            },
            "$or": [
                {"Keys": {"pk": {"S": [{"anything-but": ["a", "b"]}]}}},
                {"SizeBytes": [{"numeric": [">", 1.5, "<=", 1e3]}], "x": [None, False, -2]},
            ],
        },
    }
)
TTL = Filter.from_pattern({"userIdentity": {"type": ["Service"]}})
CRITERIA = FilterCriteria([AWKWARD, TTL])


def _yaml(text: str) -> Any:
    return yaml.safe_load(text)


def test_cloudformation_block_reads_back_as_to_dict() -> None:
    assert _yaml(to_cloudformation(CRITERIA)) == {"FilterCriteria": CRITERIA.to_dict()}
    indented = to_cloudformation(CRITERIA, indent=6)
    assert all(line.startswith(" " * 6) for line in indented.splitlines())
    assert _yaml(indented) == {"FilterCriteria": CRITERIA.to_dict()}
    assert _yaml(to_cloudformation(FilterCriteria())) == {"FilterCriteria": {"Filters": []}}
    assert to_cloudformation(TTL) == (
        'FilterCriteria:\n  Filters:\n    - Pattern: \'{"userIdentity":{"type":["Service"]}}\'\n'
    )


def test_serverless_filter_patterns_read_back_as_objects() -> None:
    assert _yaml(to_serverless(CRITERIA)) == {"filterPatterns": [f.to_pattern() for f in CRITERIA]}
    assert _yaml(to_serverless(CRITERIA, indent=8))["filterPatterns"][1] == TTL.to_pattern()
    assert _yaml(to_serverless(FilterCriteria())) == {"filterPatterns": []}


def test_cdk_code_builds_the_same_patterns() -> None:
    code = to_cdk(CRITERIA)
    tree = ast.parse(code)
    assert isinstance(tree.body[0], ast.ImportFrom)
    assert tree.body[0].module == "aws_cdk"
    fake_lambda = SimpleNamespace(
        FilterCriteria=SimpleNamespace(filter=lambda obj: {"pattern": json.dumps(obj)})
    )
    namespace: dict[str, Any] = {}
    body = code.replace("from aws_cdk import aws_lambda as lambda_\n", "")
    exec(compile(body, "<cdk>", "exec"), {"lambda_": fake_lambda}, namespace)
    rebuilt = FilterCriteria.from_dict({"filters": namespace["filters"]})
    assert rebuilt == CRITERIA
    assert [f.to_pattern() for f in rebuilt] == [f.to_pattern() for f in CRITERIA]


def _hcl_to_python(block: str) -> list[Any]:
    """Evaluate the jsonencode(...) arguments of the Terraform block (HCL object syntax is
    JSON-like: ``"k" = v``; ``$${`` escapes ``${``)."""
    out = []
    for chunk in block.split("pattern = jsonencode(")[1:]:
        expression = chunk[: chunk.index("\n    })") + len("\n    }")]
        python = expression.replace('" = ', '": ').replace("$${", "${").replace("\n", ",\n")
        python = python.replace("{,", "{").replace("[,", "[")
        python = python.replace("null", "None").replace("true", "True").replace("false", "False")
        out.append(eval(python))
    return out


def test_terraform_block_encodes_the_same_patterns() -> None:
    block = to_terraform(CRITERIA)
    assert block.startswith("filter_criteria {\n  filter {\n    pattern = jsonencode({\n")
    assert block.count("filter {") == 2
    assert block.endswith("  }\n}\n")
    assert "$${x}" in block
    assert '"it\'s.a" = {' in block
    assert "\\u2028" in block
    assert _hcl_to_python(block) == [f.to_pattern() for f in CRITERIA]
    assert to_terraform(TTL, indent=2).splitlines()[0] == "  filter_criteria {"


SAM_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
      StreamSpecification:
        StreamViewType: NEW_AND_OLD_IMAGES
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context):\\n    return None\\n"
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: LATEST
{filter_criteria}"""

CFN_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  FunctionName:
    Type: String
  StreamArn:
    Type: String
Resources:
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref FunctionName
      EventSourceArn: !Ref StreamArn
      StartingPosition: LATEST
{filter_criteria}"""


@pytest.mark.parametrize(("template", "indent"), [(SAM_TEMPLATE, 12), (CFN_TEMPLATE, 6)])
def test_exported_filter_criteria_pass_cfn_lint(tmp_path: Path, template: str, indent: int) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    assert cfn_lint.exists(), "cfn-lint comes with the dev extra (make test installs it)"
    path = tmp_path / "template.yaml"
    path.write_text(template.format(filter_criteria=to_cloudformation(CRITERIA, indent=indent)))
    loaded = _yaml(path.read_text().replace("!GetAtt Orders.StreamArn", "x").replace("!Ref ", ""))
    resource = loaded["Resources"].get("Consumer") or loaded["Resources"]["Mapping"]
    properties = resource["Properties"]
    if "Events" in properties:
        properties = properties["Events"]["Stream"]["Properties"]
    assert properties["FilterCriteria"] == CRITERIA.to_dict()
    result = subprocess.run(
        [str(cfn_lint), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_catch_a_broken_filter_criteria(tmp_path: Path) -> None:
    """The cfn-lint check above can fail: a FilterCriteria with a wrong shape is reported."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    assert cfn_lint.exists(), "cfn-lint comes with the dev extra (make test installs it)"
    path = tmp_path / "template.yaml"
    broken = "      FilterCriteria:\n        Filters:\n          - Pattern: [1, 2]\n"
    path.write_text(CFN_TEMPLATE.format(filter_criteria=broken))
    result = subprocess.run(
        [str(cfn_lint), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "filters"


def _example_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "export_criteria", EXAMPLES / "export_criteria.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_documented_exports_are_what_the_functions_produce() -> None:
    exports = _example_module().EXPORTS
    assert sorted(exports) == sorted(
        p.name for p in EXAMPLES.glob("export_*") if p.name != "export_criteria.py"
    )
    for name, text in exports.items():
        assert (EXAMPLES / name).read_text() == text, f"regenerate examples/filters/{name}"


def test_documented_sam_template_passes_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    assert cfn_lint.exists(), "cfn-lint comes with the dev extra (make test installs it)"
    result = subprocess.run(
        [str(cfn_lint), str(EXAMPLES / "export_sam_template.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("function", [to_cloudformation, to_serverless, to_cdk, to_terraform])
def test_docstring_example_runs(function: Any) -> None:
    import doctest

    (test,) = doctest.DocTestFinder().find(function)
    assert test.examples
    assert doctest.DocTestRunner().run(test).failed == 0


def test_cdk_code_is_what_ruff_writes() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff comes with the dev extra")
    criteria = FilterCriteria(
        [
            {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"pk": {"S": ["a'b"]}}}},
            {"dynamodb": {"NewImage": {"s": {"S": [f"value-{i}" for i in range(20)]}}}},
            {"$or": [{"a": ['say "hi"', 1.5, None]}, {"b": [{"prefix": "x\\y"}, True]}]},
        ]
    )
    code = to_cdk(criteria)
    formatted = subprocess.run(
        [str(ruff), "format", "--line-length", "100", "-"],
        input=code,
        capture_output=True,
        text=True,
        check=True,
    )
    assert formatted.stdout == code


def test_deep_patterns_export_without_recursion() -> None:
    pattern: Any = ["x"]
    for _ in range(800):  # 4005 characters
        pattern = {"": pattern}
    f = Filter.from_pattern(pattern)
    for render in (to_cdk, to_cloudformation, to_serverless, to_terraform):
        assert "x" in render(f)
