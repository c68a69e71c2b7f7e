"""The emulator's template is the AWS one but for the one list in infra/emulator_template.py."""

from __future__ import annotations

import copy
import json
from typing import Any

from infra import emulator_template
from infra.build import Package


def _sam(packages: dict[str, Package]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(packages["dev"].template.read_text(encoding="utf-8"))
    return document


def test_only_the_listed_adjustments_differ(packages: dict[str, Package]) -> None:
    # Given the AWS template, and what the emulator gets
    aws = _sam(packages)
    emulated = emulator_template.for_emulator(aws)
    # Then undoing each listed adjustment by hand gives the AWS template back exactly
    expected = copy.deepcopy(aws)
    resources = expected["Resources"]
    removed = {
        n
        for n, r in resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in r["Properties"]
    }
    assert removed == {"Api5xxRateAlarm", "TableThrottlesAlarm", "TableSystemErrorsAlarm"}
    for name in removed:
        del resources[name]
    for name in ("APIHandler", "JwtAuth"):
        del resources[name]["Properties"]["DeploymentPreference"]
    resources.update(emulator_template.gateway_response_resources(aws))
    authorizer = resources["RestAPI"]["Properties"]["DefinitionBody"]["securityDefinitions"]["jwt_auth"]
    authorizer["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"] = 3
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Function":
            variables = resource["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
            variables.update({"WEBHOOK_ALLOW_LOOPBACK": "true", "WEBHOOK_RETRY_BASE_SECONDS": "2"})
    dashboard = resources["ServiceDashboard"]["Properties"]["DashboardBody"]
    emulated_dashboard = emulated["Resources"]["ServiceDashboard"]["Properties"]["DashboardBody"]
    for name in removed:
        assert f"${{{name}.Arn}}" in dashboard["Fn::Sub"]
        assert f"${{{name}.Arn}}" not in emulated_dashboard["Fn::Sub"]
    resources["ServiceDashboard"]["Properties"]["DashboardBody"] = emulated_dashboard
    assert emulated == expected
    # And the AWS template itself is untouched
    assert aws == _sam(packages)


def test_gateway_response_resources_copy_the_definition(packages: dict[str, Package]) -> None:
    aws = _sam(packages)
    extension = aws["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"
    ]
    resources = emulator_template.gateway_response_resources(aws)
    assert {r["Properties"]["ResponseType"] for r in resources.values()} == set(extension)
    for resource in resources.values():
        properties = resource["Properties"]
        original = extension[properties["ResponseType"]]
        assert properties["RestApiId"] == {"Ref": "RestAPI"}
        assert properties["ResponseParameters"] == original["responseParameters"]
        assert properties["ResponseTemplates"] == original["responseTemplates"]
        assert properties.get("StatusCode") == original.get("statusCode")
    # Named so the emulator creates them before SAM's RestAPIDeployment<hash> (it orders
    # ready resources by name), which snapshots the responses in effect.
    assert all(name < "RestAPIDeployment" for name in resources)


def test_every_gateway_response_forbids_caching_and_sniffing(packages: dict[str, Package]) -> None:
    for package in packages.values():
        template = json.loads(package.template.read_text(encoding="utf-8"))
        definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
        for kind, response in definition["x-amazon-apigateway-gateway-responses"].items():
            headers = response["responseParameters"]
            assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'", kind
            assert headers["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'", kind


def test_code_goes_to_s3_as_cloudformation_package_writes_it(packages: dict[str, Package]) -> None:
    packaged = emulator_template.with_code_in_s3(_sam(packages), "bucket", "key.zip")
    functions = [r for r in packaged["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    originals = [r for r in _sam(packages)["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    # API, authorizer, the expiry sweep and the event publisher: one zip for all of them.
    assert len(functions) == len(originals) >= 4
    assert [f["Properties"]["CodeUri"] for f in functions] == ["s3://bucket/key.zip"] * len(originals)
