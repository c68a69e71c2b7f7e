"""`make package STAGE=prod`: merge template → `chalice package` (Python 3.13) → slim zip +
3.13 bytecode → releases (alias, SnapStart, canary, alarms) → SAM translator → cfn-lint.

    python -m infra.build --stage prod [--out out/prod] [--skip-lint]

Works without AWS credentials or account: chalice only needs a region name to render
the template, and fetches Lambda-platform wheels from the package index. chalice runs in
the 3.13 packaging venv (infra/lambda_runtime.py), made on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import iam, lambda_runtime, release, sam, slim
from infra.stage import DEPLOYED_STAGES, ROOT, Stage, load_stage
from infra.template import merge_template

# Deployed once per account and region, not per stage (see docs/deployment.md).
ACCOUNT_TEMPLATE = ROOT / "infra" / "apigateway-account.json"
_CREDENTIAL_VARIABLES = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"}
)
ZIP_BUDGET_BYTES = 15 * 1024 * 1024  # far below Lambda's 50 MB; a cold start reads all of it
# The module Lambda imports for the authorizer (its Handler without the attribute).
AUTHORIZER_MODULE = "chalicelib.api.auth"


class BuildError(RuntimeError):
    """The package could not be built, or failed a check."""


@dataclass(frozen=True)
class Package:
    """A built deployment package: where its files are and what it weighs."""

    directory: Path
    template: Path
    transformed: Path
    zip: Path
    slimmed: slim.SlimReport
    bytecode_bytes: int


def check_policy_covers_code(stage: Stage, root: Path = ROOT) -> None:
    """Refuse to package when a policy and the DynamoDB calls of its function's code disagree:
    the API handler's grants exactly what the code calls; the authorizer's nothing its
    handler module cannot reach (tests/deploy also checks every call it makes is granted)."""
    needed = iam.required_dynamodb_actions(root)
    granted = iam.actions(iam.load_policy(stage.api_policy_file), "dynamodb")
    if needed != granted:
        raise BuildError(
            f"{stage.api_policy_file.name}: missing {sorted(needed - granted)}, "
            f"unused {sorted(granted - needed)}"
        )
    reachable = iam.reachable_dynamodb_actions(AUTHORIZER_MODULE, root)
    unreachable = iam.actions(iam.load_policy(stage.authorizer_policy_file), "dynamodb") - reachable
    if unreachable:
        raise BuildError(f"{stage.authorizer_policy_file.name}: its code never calls {sorted(unreachable)}")


def package(stage: Stage, out: Path, root: Path = ROOT) -> Package:
    """Run `chalice package` for the stage (Python 3.13) with the merge template; slim the
    zip, add 3.13 bytecode, patch the releases in; translate with SAM."""
    try:
        python = str(lambda_runtime.packaging_python(root))
    except lambda_runtime.RuntimeUnavailable as exc:
        raise BuildError(str(exc)) from exc
    out.mkdir(parents=True, exist_ok=True)
    merge = out.parent / f"{stage.name}-merge-template.json"
    merge.write_text(json.dumps(merge_template(stage), indent=2) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in _CREDENTIAL_VARIABLES}
    # No credentials at all, even from ~/.aws: packaging must never need an AWS account.
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull)
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    chalice = str(Path(python).parent / "chalice")
    command = [chalice, "package", "--stage", stage.name, "--merge-template", str(merge), str(out)]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BuildError(f"chalice package failed:\n{result.stdout}{result.stderr}")
    zip_path = out / "deployment.zip"
    report = slim.strip_runtime_provided(zip_path, keep=slim.pinned_names(root / "requirements.txt"))
    bytecode = slim.precompile(zip_path, python)
    document = json.loads((out / "sam.json").read_text(encoding="utf-8"))
    runtimes = {r["Properties"].get("Runtime") for r in _functions(document)}
    if runtimes != {lambda_runtime.RUNTIME}:
        raise BuildError(f"chalice packaged for {sorted(map(str, runtimes))}, not {lambda_runtime.RUNTIME}")
    release.apply(document, stage, iam.required_dynamodb_operations(root))
    (out / "sam.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    transformed = sam.translate_file(out / "sam.json", out / "transformed.json")
    return Package(out, out / "sam.json", transformed, zip_path, report, bytecode)


def _functions(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in document["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]


def lint(template: Path) -> str:
    """cfn-lint: SAM resources against SAM's schemas, the rest against CloudFormation's; '' if clean."""
    result = subprocess.run(  # noqa: S603
        [_tool("cfn-lint"), "--regions", "us-east-1", "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else (result.stdout + result.stderr).strip()


def _tool(name: str) -> str:
    # The tools installed next to this interpreter (the project's .venv), not whatever is on PATH.
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _report(built: Package) -> str:
    size = built.zip.stat().st_size
    lines = [f"{built.template} and {built.zip}: {size / 1024 / 1024:.2f} MiB"]
    if built.slimmed.removed:
        saved = (built.slimmed.bytes_before - built.slimmed.bytes_after) / 1024 / 1024
        lines.append(
            f"  removed (Lambda runtime provides): {', '.join(built.slimmed.removed)} (-{saved:.2f} MiB)"
        )
    lines.append(f"  bytecode added (read-only /var/task): +{built.bytecode_bytes / 1024 / 1024:.2f} MiB")
    lines += [f"  {name:<40} {n / 1024:>8.0f} KiB" for name, n in slim.largest_top_level(built.zip)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the stage's template and package; 0 when cfn-lint passes."""
    parser = argparse.ArgumentParser(prog="python -m infra.build", description=__doc__)
    parser.add_argument("--stage", choices=DEPLOYED_STAGES, required=True)
    parser.add_argument("--out", type=Path, help="output directory (default: out/<stage>)")
    parser.add_argument("--skip-lint", action="store_true")
    args = parser.parse_args(argv)
    stage = load_stage(args.stage)
    try:
        check_policy_covers_code(stage)
        built = package(stage, args.out or ROOT / "out" / stage.name)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(_report(built))
    if built.zip.stat().st_size > ZIP_BUDGET_BYTES:
        print(f"error: zip over budget ({ZIP_BUDGET_BYTES} bytes)", file=sys.stderr)
        return 1
    if args.skip_lint:
        print("cfn-lint: skipped")
        return 0
    problems = [p for p in map(lint, (built.template, built.transformed, ACCOUNT_TEMPLATE)) if p]
    print("\n".join(problems) or "cfn-lint: clean", file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
