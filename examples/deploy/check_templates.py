"""Turn the SAM template and the CDK app of docs/deploy.md into CloudFormation, and lint that.

``make deploy-check`` runs it. cfn-lint alone does not expand SAM resources (cfn-lint 1.x has
no SAM transform), so an event source mapping written in SAM is only checked once AWS's own
translator has produced it. The tools are what a SAM or CDK user has, kept out of the
development venv (aws-sam-translator pins an older pydantic): aws-sam-translator, aws-cdk-lib,
constructs and cfn-lint from PyPI in ``.venv-cdk``, the ``aws-cdk`` CLI from npm in ``.cdk``,
and Node.js; a few hundred MB, so this is not part of ``make test``.

1. SAM: the template with its local ``CodeUri``/``ContentUri`` replaced by S3 URLs (what
   ``sam package`` does), transformed by ``samtranslator``, then ``cfn-lint``;
2. CDK: ``cdk/app.py`` in a temporary project with the ``build/function`` and ``build/layer``
   folders it packages (a stand-in handler: synthesis only hashes and copies them), ``cdk
   synth`` (the CLI, as users run it, with notices and telemetry off), then ``cfn-lint``;
3. both event source mappings have the settings the page promises.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = ROOT / ".venv-cdk"
NODE_PREFIX = ROOT / ".cdk"


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _tools() -> tuple[Path, Path]:
    python = VENV / "bin" / "python"
    if not python.exists():
        _run(sys.executable, "-m", "venv", VENV)
    print("==> .venv-cdk: aws-cdk-lib, constructs, cfn-lint, aws-sam-translator (PyPI)", flush=True)
    _run(
        python, "-m", "pip", "install", "--quiet",
        "aws-cdk-lib", "constructs", "cfn-lint", "aws-sam-translator",
    )  # fmt: skip
    cdk = NODE_PREFIX / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        print("==> .cdk: the aws-cdk CLI (npm)", flush=True)
        _run("npm", "install", "--silent", "--prefix", NODE_PREFIX, "aws-cdk")
    return python, cdk


def _project(folder: Path) -> None:
    shutil.copy2(HERE / "cdk" / "app.py", folder / "app.py")
    (folder / "build" / "function").mkdir(parents=True)
    (folder / "build" / "function" / "handler.py").write_text("def handler(event, context): ...\n")
    (folder / "build" / "layer" / "python").mkdir(parents=True)


def _check_mapping(template: dict[str, object]) -> dict[str, object]:
    resources = template["Resources"]
    assert isinstance(resources, dict)
    (mapping,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], mapping
    assert mapping["BisectBatchOnFunctionError"] is True, mapping
    assert mapping["StartingPosition"] == "TRIM_HORIZON", mapping
    assert "OnFailure" in mapping["DestinationConfig"], mapping
    pattern = json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern == {"eventName": ["INSERT", "REMOVE"]}, pattern
    return mapping


_SAM_TRANSFORM = """
import json, sys
from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

class Policies:  # the managed policies SAM attaches to a function's role
    def load(self):
        return {"AWSLambdaBasicExecutionRole":
                "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}

template, errors = decode_str(open(sys.argv[1]).read())
assert not errors, errors
template = json.loads(json.dumps(template))
for resource in template["Resources"].values():
    for key in ("CodeUri", "ContentUri"):
        if key in resource.get("Properties", {}):
            resource["Properties"][key] = "s3://deployment-bucket/package.zip"
json.dump(transform(template, {}, Policies()), open(sys.argv[2], "w"), indent=1)
"""


def check_sam(python: Path, folder: Path) -> dict[str, object]:
    """The SAM template, transformed and linted; returns its event source mapping."""
    out = folder / "sam.template.json"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    _run(python, "-c", _SAM_TRANSFORM, HERE / "sam" / "template.yaml", out, env=env)
    _run(python.parent / "cfn-lint", out)
    return _check_mapping(json.loads(out.read_text()))


def main() -> int:
    python, cdk = _tools()
    with tempfile.TemporaryDirectory(prefix="ddbstream-sam-") as tmp:
        print("==> SAM: samtranslator, cfn-lint", flush=True)
        sam_mapping = check_sam(python, Path(tmp))
    print(f"SAM: OK; event source mapping: {json.dumps(sam_mapping, sort_keys=True)}")
    env = {
        **os.environ,
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    with tempfile.TemporaryDirectory(prefix="ddbstream-cdk-") as tmp:
        folder = Path(tmp)
        _project(folder)
        print("==> cdk synth", flush=True)
        _run(
            cdk, "synth", "--app", f"{python} app.py", "--output", "cdk.out",
            "--no-notices", "--no-version-reporting", "--quiet",
            cwd=folder, env=env,
        )  # fmt: skip
        template_path = folder / "cdk.out" / "OrdersStack.template.json"
        template = json.loads(template_path.read_text())
        mapping = _check_mapping(template)
        print("==> cfn-lint", flush=True)
        # W3005: CDK writes a DependsOn on the function's role that its GetAtt already implies.
        _run(python.parent / "cfn-lint", template_path, "--ignore-checks", "W3005")
    version = _run(cdk, "--version").strip()
    kinds = sorted({r["Type"] for r in template["Resources"].values()})
    print(f"CDK: cdk synth ({version}) and cfn-lint: OK; resources: {', '.join(kinds)}")
    print(f"CDK: event source mapping: {json.dumps(mapping, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
