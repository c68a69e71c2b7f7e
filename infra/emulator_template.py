"""What the packaged template loses on the emulator: ONE list, a reason per item.

Everything else in the stack MiniStack builds is the template `make package` wrote for AWS.
docs/deployment.md ("Deploy it locally") explains each item and what stays unproved.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Template = dict[str, Any]
# The authorizer's cache on the emulated stage: long enough to be a cache (a second call
# within it does not reach the function), short enough for the revocation test to wait out.
EMULATED_AUTHORIZER_CACHE_SECONDS = 3


@dataclass(frozen=True)
class Adjustment:
    """One change the emulator needs, and why."""

    name: str
    reason: str
    apply: Callable[[Template], None]


def _remove_deployment_preferences(template: Template) -> None:
    for resource in _resources(template, "AWS::Serverless::Function"):
        resource["Properties"].pop("DeploymentPreference", None)


def _remove_metric_math_alarms(template: Template) -> None:
    resources = template["Resources"]
    removed = [
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in resource["Properties"]
    ]
    for name in removed:
        del resources[name]
    for dashboard in _resources(template, "AWS::CloudWatch::Dashboard"):
        body = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
        for widget in body["widgets"]:
            alarms = widget["properties"].get("alarms")
            if alarms is not None:
                widget["properties"]["alarms"] = [a for a in alarms if a not in _arn_refs(removed)]
        dashboard["Properties"]["DashboardBody"]["Fn::Sub"] = json.dumps(body, separators=(",", ":"))


def _arn_refs(names: list[str]) -> set[str]:
    # How the dashboard names an alarm inside its Fn::Sub body (infra/release.py).
    return {f"${{{name}.Arn}}" for name in names}


def gateway_response_resources(template: Template) -> dict[str, Any]:
    """The API definition's `x-amazon-apigateway-gateway-responses`, as
    `AWS::ApiGateway::GatewayResponse` resources with the very same content."""
    (api_id,) = (name for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Api")
    definition = template["Resources"][api_id]["Properties"]["DefinitionBody"]
    return {
        "GatewayResponse" + "".join(part.capitalize() for part in kind.split("_")): {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": {
                "RestApiId": {"Ref": api_id},
                "ResponseType": kind,
                **({"StatusCode": response["statusCode"]} if "statusCode" in response else {}),
                "ResponseParameters": response["responseParameters"],
                "ResponseTemplates": response["responseTemplates"],
            },
        }
        for kind, response in definition["x-amazon-apigateway-gateway-responses"].items()
    }


def _gateway_responses_as_resources(template: Template) -> None:
    template["Resources"].update(gateway_response_resources(template))


def _shorten_authorizer_cache(template: Template) -> None:
    for api in _resources(template, "AWS::Serverless::Api"):
        for scheme in api["Properties"]["DefinitionBody"].get("securityDefinitions", {}).values():
            authorizer = scheme.get("x-amazon-apigateway-authorizer")
            if authorizer is not None:
                authorizer["authorizerResultTtlInSeconds"] = EMULATED_AUTHORIZER_CACHE_SECONDS


# The emulated stack's webhook retries: 2 s doubling instead of 30 s, so a retry is seen in seconds.
EMULATED_WEBHOOK_RETRY_BASE_SECONDS = 2


def _webhooks_to_loopback(template: Template) -> None:
    for function in _resources(template, "AWS::Serverless::Function"):
        variables = function["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
        variables["WEBHOOK_ALLOW_LOOPBACK"] = "true"
        variables["WEBHOOK_RETRY_BASE_SECONDS"] = str(EMULATED_WEBHOOK_RETRY_BASE_SECONDS)


EMULATOR_ADJUSTMENTS: tuple[Adjustment, ...] = (
    Adjustment(
        "DeploymentPreference (CodeDeploy canary and rollback)",
        "MiniStack cannot create the CodeDeploy application, deployment groups and role SAM "
        "generates from it; without it SAM points the alias at each new version at once",
        _remove_deployment_preferences,
    ),
    Adjustment(
        "alarms that use metric math (AWS::CloudWatch::Alarm with Metrics)",
        "MiniStack's CloudWatch refuses them; they are also taken out of the dashboard's alarm "
        "widget, which names them. The single-metric alarms stay",
        _remove_metric_math_alarms,
    ),
    Adjustment(
        "gateway responses as AWS::ApiGateway::GatewayResponse resources (added)",
        "MiniStack ignores the x-amazon-apigateway-gateway-responses of an imported API "
        "definition and applies the resources; on AWS the extension is the form that holds "
        "(docs/deployment.md, 'Gateway responses'). Same content, copied from the definition",
        _gateway_responses_as_resources,
    ),
    Adjustment(
        f"authorizer cache 60 s -> {EMULATED_AUTHORIZER_CACHE_SECONDS} s",
        "so tests/deployed/ proves a logout reaches every route within the cache lifetime "
        "without waiting a minute; the 60 s on AWS is checked by tests/deploy/",
        _shorten_authorizer_cache,
    ),
    Adjustment(
        "webhook URLs to http://127.0.0.1 allowed, retries from 2 s (WEBHOOK_ALLOW_LOOPBACK, "
        "WEBHOOK_RETRY_BASE_SECONDS on every function)",
        "so tests/deployed/test_events_webhooks.py can subscribe a receiver on the test's machine and "
        "see a retry; on AWS deployed URLs must be https to a public address (tests/deploy/)",
        _webhooks_to_loopback,
    ),
)


def for_emulator(template: Template) -> Template:
    """A copy of the packaged SAM template with every adjustment applied."""
    adjusted = copy.deepcopy(template)
    for adjustment in EMULATOR_ADJUSTMENTS:
        adjustment.apply(adjusted)
    return adjusted


def with_code_in_s3(template: Template, bucket: str, key: str) -> Template:
    """What `aws cloudformation package` does: every function's CodeUri → the uploaded zip."""
    packaged = copy.deepcopy(template)
    for function in _resources(packaged, "AWS::Serverless::Function"):
        function["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
    return packaged


def _resources(template: Template, kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]
