"""cfn-lint + serverless rules, checkov and cfn-guard (Control Tower) over both stages'
packaged templates: every finding is accepted with a reason in infra/scanner-suppressions.toml,
and every acceptance there still matches a finding."""

from __future__ import annotations

import pytest

from infra import scanners
from infra.build import Package


@pytest.fixture(scope="module")
def findings(packages: dict[str, Package]) -> set[scanners.Finding]:
    try:
        scanners.cfn_guard()
    except (scanners.ScannerError, ValueError) as exc:
        pytest.skip(f"the scanners' venv is missing (`make scanners-venv`): {exc}")
    templates = [path for p in packages.values() for path in (p.template, p.transformed)]
    return scanners.scan(templates)


def test_every_finding_is_accepted_with_a_reason_and_no_acceptance_is_stale(
    findings: set[scanners.Finding],
) -> None:
    accepted = scanners.load_acceptances()
    unexplained, stale = scanners.judge(findings, accepted)
    assert unexplained == []
    assert [(a.tool, a.rule) for a in stale] == []
    assert all(len(a.reason) > 40 for a in accepted)


def test_each_scanner_ran_and_was_parsed(findings: set[scanners.Finding]) -> None:
    # Not vacuous: checkov and cfn-guard each report their known, accepted findings.
    assert scanners.Finding("checkov", "CKV_AWS_117", "APIHandler") in findings
    assert scanners.Finding("cfn-guard", "CT.LAMBDA.PR.3", "JwtAuth") in findings


def test_a_finding_on_another_resource_is_not_explained() -> None:
    accepted = scanners.load_acceptances()
    novel = scanners.Finding("checkov", "CKV_AWS_158", "SomeNewLogGroup")
    unexplained, stale = scanners.judge({novel}, accepted)
    assert unexplained == [novel]
    assert len(stale) == len(accepted)


def test_cfn_lint_findings_are_read_from_its_json() -> None:
    output = '[{"Rule": {"Id": "WS1004"}, "Location": {"Path": ["Resources", "Fn", "Properties"]}}]'
    assert scanners.lint_findings(output) == {scanners.Finding("cfn-lint", "WS1004", "Fn")}


def test_cfn_guard_findings_are_read_from_its_json_stream() -> None:
    output = (
        '{"not_compliant": [{"Rule": {"name": "r", "messages": "[CT.LAMBDA.PR.3]: x",'
        ' "at": "/Resources/Fn/Properties"}}]}\n{"not_compliant": []}'
    )
    assert scanners.guard_findings(output) == {scanners.Finding("cfn-guard", "CT.LAMBDA.PR.3", "Fn")}
