"""`make package` for both stages, for real: `chalice package --merge-template` (Python
3.13) without any AWS credentials, the zip slimmed, the releases patched in, and cfn-lint
(with the SAM translator) on the result. This is the same code path as
`make package STAGE=...`, so `make test` (and CI) runs it. The packages are built once per
session (tests/deploy/conftest.py) and shared with the zip test."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store import schema
from infra import build, iam, template
from infra.stage import DEPLOYED_STAGES, load_stage

pytestmark = pytest.mark.slow


def _resources(package: build.Package) -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(package.template.read_text(encoding="utf-8"))["Resources"]
    return resources


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_packaged_template_passes_cfn_lint_with_the_sam_transform(
    packages: dict[str, build.Package], stage: str
) -> None:
    assert build.lint(packages[stage].template) == ""


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_sam_transform_succeeds_and_its_cloudformation_passes_cfn_lint(
    packages: dict[str, build.Package], stage: str
) -> None:
    assert build.lint(packages[stage].transformed) == ""


def test_transformed_stage_is_traced_throttled_and_access_logged(packages: dict[str, build.Package]) -> None:
    # The API stage exists only after the SAM transform: check the settings reached it.
    resources = json.loads(packages["prod"].transformed.read_text(encoding="utf-8"))["Resources"]
    (stage,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["StageName"] == "api"
    assert stage["TracingEnabled"] is True
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == load_stage("prod").limits.rate
    assert "AccessLogSetting" in stage
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    assert {f["Properties"]["TracingConfig"]["Mode"] for f in functions} == {"Active"}


def test_account_template_passes_cfn_lint() -> None:
    assert build.lint(build.ACCOUNT_TEMPLATE) == ""


def test_lint_reports_an_invalid_template(tmp_path: Path, packages: dict[str, build.Package]) -> None:
    # Given the prod template with a property SAM does not know
    document = json.loads(packages["prod"].template.read_text(encoding="utf-8"))
    document["Resources"]["RestAPI"]["Properties"]["TracingEnabledd"] = True
    broken = tmp_path / "sam.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    # Then cfn-lint says so (the check above is not vacuous)
    assert "TracingEnabledd" in build.lint(broken)


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_merge_only_touches_resources_chalice_generated_or_fully_defines(
    packages: dict[str, build.Package], stage: str
) -> None:
    # A merge into a logical id chalice did not generate leaves a resource without a Type.
    assert all("Type" in resource for resource in _resources(packages[stage]).values())


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_packaged_table_is_the_create_table_table(packages: dict[str, build.Package], stage: str) -> None:
    table = _resources(packages[stage])[template.TABLE]
    expected = schema.create_table_params(load_stage(stage).table_name)
    assert {key: table["Properties"][key] for key in expected} == expected
    assert table["Properties"]["DeletionProtectionEnabled"] is (stage == "prod")


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_each_function_role_carries_its_own_policy_file_pinned_to_the_stack(
    packages: dict[str, build.Package], stage: str
) -> None:
    config = load_stage(stage)
    resources = _resources(packages[stage])
    for role, policy_file in (
        (template.API_HANDLER_ROLE, config.api_policy_file),
        (template.AUTHORIZER_ROLE, config.authorizer_policy_file),
    ):
        (policy,) = resources[role]["Properties"]["Policies"]
        assert policy["PolicyDocument"] == iam.pin_to_stack(iam.load_policy(policy_file))
    assert resources[template.AUTHORIZER]["Properties"]["Role"] == {
        "Fn::GetAtt": [template.AUTHORIZER_ROLE, "Arn"]
    }


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_functions_are_traced_and_wired_to_table_and_jwt_parameter(
    packages: dict[str, build.Package], stage: str
) -> None:
    resources = _resources(packages[stage])
    for function in (template.API_HANDLER, template.AUTHORIZER):
        properties = resources[function]["Properties"]
        assert properties["Tracing"] == "Active"
        variables = properties["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": template.TABLE}
        assert variables["JWT_SECRET_PARAM"] == f"/storefront/{stage}/jwt-secret"
        assert variables["STAGE"] == stage


def test_api_routes_use_the_jwt_authorizer_and_gateway_responses_are_in_the_definition(
    packages: dict[str, build.Package],
) -> None:
    definition = _resources(packages["prod"])[template.REST_API]["Properties"]["DefinitionBody"]
    assert "jwt_auth" in definition["securityDefinitions"]
    assert "/health" in definition["paths"]
    assert "ACCESS_DENIED" in definition["x-amazon-apigateway-gateway-responses"]


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_zip_has_the_app_and_nothing_the_runtime_already_ships(
    packages: dict[str, build.Package], stage: str
) -> None:
    package = packages[stage]
    with zipfile.ZipFile(package.zip) as archive:
        names = archive.namelist()
    assert "app.py" in names
    assert "chalicelib/store/schema.py" in names
    assert not [n for n in names if n.split("/")[0] in {"botocore", "boto3", "s3transfer"}]
    assert not [n for n in names if n.startswith(("tests/", "infra/", "tools/", ".chalice/"))]
    assert package.zip.stat().st_size < build.ZIP_BUDGET_BYTES
