"""Infrastructure scanners over the packaged templates: cfn-lint with the serverless rules
(cfn-lint-serverless), checkov, and cfn-guard 3 with the AWS Control Tower rule packs.

    python -m infra.scanners out/dev out/prod     # exit 1 on any finding not accepted

They run from their own venv (`.venv-scanners`, `make scanners-venv`: checkov pins a boto3
the dev venv cannot share). cfn-guard and the rule packs come out of the PyPI wheel
`cdklabs-cdk-validator-cfnguard` (inside its jsii bundle), unpacked once into .cache/.
Every accepted finding is in infra/scanner-suppressions.toml with its reason; a finding not
there fails, and so does an acceptance that no longer matches anything.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-scanners"
STAMP = VENV / ".installed"
SUPPRESSIONS = ROOT / "infra" / "scanner-suppressions.toml"
GUARD_CACHE = ROOT / ".cache" / "cfn-guard"
_CONTROL = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.[0-9]+)\]")
_RESOURCE = re.compile(r"/Resources/([A-Za-z0-9]+)")
_MACHINES = {"x86_64": "x86_64", "AMD64": "x86_64", "arm64": "aarch64"}  # the bundle's names


class ScannerError(RuntimeError):
    """A scanner is missing or did not run to completion."""


@dataclass(frozen=True, order=True)
class Finding:
    """One rule failing on one resource, by one tool."""

    tool: str
    rule: str
    resource: str


@dataclass(frozen=True)
class Acceptance:
    """An accepted finding kind: which resources, and why."""

    tool: str
    rule: str
    resources: frozenset[str]
    reason: str

    def covers(self, finding: Finding) -> bool:
        """Whether this acceptance explains the finding."""
        return (finding.tool, finding.rule) == (self.tool, self.rule) and finding.resource in self.resources


def _bin(name: str) -> str:
    if not STAMP.exists():
        raise ScannerError(f"{VENV.name} is not installed: run `make scanners-venv`")
    return str(VENV / "bin" / name)


def cfn_guard() -> tuple[Path, Path]:
    """(the cfn-guard binary, the Control Tower rules directory), unpacked from the wheel once."""
    (bundle,) = VENV.glob("lib/python3*/site-packages/cdklabs/cdk_validator_cfnguard/_jsii/*.jsii.tgz")
    system = {"Linux": "ubuntu", "Darwin": "macos"}[platform.system()]
    machine = _MACHINES.get(platform.machine(), platform.machine())
    target = GUARD_CACHE / bundle.name.removesuffix(".jsii.tgz")
    binary = target / "package" / "bin" / system / machine / "cfn-guard"
    rules = target / "package" / "rules" / "control-tower" / "cfn-guard"
    if not binary.exists():
        wanted = (f"package/bin/{system}/{machine}/", "package/rules/control-tower/cfn-guard/")
        with tarfile.open(bundle) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith(wanted)]
            archive.extractall(target, members=members, filter="data")
    return binary, rules


def _start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603


def _finish(proc: subprocess.Popen[str], ok_codes: tuple[int, ...]) -> str:
    out, err = proc.communicate(timeout=600)
    if proc.returncode not in ok_codes:
        raise ScannerError(f"{proc.args!r} exited {proc.returncode}:\n{err[-2000:]}")
    return out


def scan(templates: list[Path]) -> set[Finding]:
    """Every finding of the three scanners over the templates (run side by side)."""
    guard, rules = cfn_guard()
    paths = [str(t) for t in templates]
    lint = _start([_bin("cfn-lint"), "-a", "cfn_lint_serverless.rules", "-f", "json", "--", *paths])
    data = [arg for t in templates for arg in ("-f", str(t))]
    checkov = _start([_bin("checkov"), *data, "--framework", "cloudformation", "--quiet", "-o", "json"])
    guard_data = [arg for t in templates for arg in ("-d", str(t))]
    json_only = ["--output-format", "json", "--show-summary", "none"]
    guarded = _start([str(guard), "validate", *guard_data, "-r", str(rules), *json_only])
    return (
        lint_findings(_finish(lint, (0, 2, 4, 6, 8, 10, 12, 14)))
        | checkov_findings(_finish(checkov, (0, 1)))
        | guard_findings(_finish(guarded, (0, 19)))
    )


def lint_findings(output: str) -> set[Finding]:
    """cfn-lint's JSON matches."""
    return {
        Finding("cfn-lint", m["Rule"]["Id"], _lint_resource(m["Location"]["Path"]))
        for m in json.loads(output or "[]")
    }


def _lint_resource(path: list[Any] | None) -> str:
    return str(path[1]) if path and len(path) > 1 and path[0] == "Resources" else "(template)"


def checkov_findings(output: str) -> set[Finding]:
    """checkov's failed checks (one report, or a list of them)."""
    reports = json.loads(output or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    return {
        Finding("checkov", c["check_id"], c["resource"].rsplit(".", 1)[-1])
        for report in reports
        for c in report.get("results", {}).get("failed_checks", [])
    }


def guard_findings(output: str) -> set[Finding]:
    """cfn-guard's non-compliant rules, by Control Tower control id and resource."""
    found: set[Finding] = set()
    for document in _json_stream(output):
        for failure in document.get("not_compliant", []):
            text = json.dumps(failure)
            controls = _CONTROL.findall(text) or [failure["Rule"]["name"]]
            found |= {Finding("cfn-guard", c, r) for c in set(controls) for r in set(_RESOURCE.findall(text))}
    return found


def _json_stream(text: str) -> list[dict[str, Any]]:
    # cfn-guard writes one JSON document per rule file, back to back.
    decoder, position, documents = json.JSONDecoder(), 0, []
    while (position := _skip_space(text, position)) < len(text):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def load_acceptances(path: Path = SUPPRESSIONS) -> list[Acceptance]:
    """The one suppression file: every accepted finding kind with its reason."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["accepted"]
    return [Acceptance(e["tool"], e["rule"], frozenset(e["resources"]), e["reason"].strip()) for e in entries]


def judge(findings: set[Finding], accepted: list[Acceptance]) -> tuple[list[Finding], list[Acceptance]]:
    """(findings no acceptance explains, acceptances that explain no finding)."""
    unexplained = sorted(f for f in findings if not any(a.covers(f) for a in accepted))
    stale = [a for a in accepted if not any(a.covers(f) for f in findings)]
    return unexplained, stale


def main(argv: list[str] | None = None) -> int:
    """Scan `make package` outputs (directories with sam.json and transformed.json)."""
    arguments = argv if argv is not None else sys.argv[1:]
    directories = [Path(arg) for arg in arguments] or [ROOT / "out" / "dev"]
    templates = [d / name for d in directories for name in ("sam.json", "transformed.json")]
    unexplained, stale = judge(scan(templates), load_acceptances())
    for finding in unexplained:
        print(f"unexplained: {finding.tool} {finding.rule} on {finding.resource}")
    for acceptance in stale:
        names = ", ".join(sorted(acceptance.resources))
        print(f"stale acceptance: {acceptance.tool} {acceptance.rule} ({names})")
    print("scanners: clean" if not unexplained and not stale else "scanners: FAILED")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
