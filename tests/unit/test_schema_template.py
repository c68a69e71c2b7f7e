"""The merge template's table is the table `manage.py create-table` makes, and the API
settings docs/api.md relies on on AWS (gateway error bodies, CORS, throttling, logs)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.store import schema
from infra import template
from infra.stage import DEPLOYED_STAGES, Stage, load_config, load_stage

STAGES = [load_stage(name) for name in DEPLOYED_STAGES]
CONTRACT_CODES = {
    "not_found",
    "unauthorized",
    "rate_limited",
    "payload_too_large",
    "unsupported_media_type",
    "service_unavailable",
    "internal_error",
}


def _render(body_template: str) -> dict[str, Any]:
    """What API Gateway sends: the template with its $context variables filled in."""
    filled = body_template.replace("$context.requestId", "req-1")
    filled = filled.replace("$context.error.messageString", '"Gateway says no"')
    result: dict[str, Any] = json.loads(filled)
    return result


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_table_key_schema_and_indexes_are_exactly_create_table_params(stage: Stage) -> None:
    # Given what `manage.py create-table` sends to CreateTable for this table name
    expected = schema.create_table_params(stage.table_name)
    # When the template's table is built
    properties = template.table_resource(stage)["Properties"]
    # Then every CreateTable parameter is identical (names, types, keys, projections, billing)
    stream = expected.pop("StreamSpecification")
    assert {key: properties[key] for key in expected} == expected
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    # and the stream too, in CloudFormation's spelling (a view type means enabled)
    assert properties["StreamSpecification"] == {"StreamViewType": stream["StreamViewType"]}
    assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_table_has_ttl_pitr_and_kms_encryption(stage: Stage) -> None:
    properties = template.table_resource(stage)["Properties"]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True


def test_only_prod_table_is_deletion_protected_and_retained() -> None:
    prod, dev = (template.table_resource(load_stage(name)) for name in ("prod", "dev"))
    assert prod["Properties"]["DeletionProtectionEnabled"] is True
    assert (prod["DeletionPolicy"], prod["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert dev["Properties"]["DeletionProtectionEnabled"] is False
    assert dev["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("MISSING_AUTHENTICATION_TOKEN", "404", "not_found"),
        ("UNAUTHORIZED", "401", "unauthorized"),
        ("ACCESS_DENIED", "401", "unauthorized"),
        ("THROTTLED", "429", "rate_limited"),
        ("REQUEST_TOO_LARGE", "413", "payload_too_large"),
        ("AUTHORIZER_FAILURE", "503", "service_unavailable"),
    ],
)
def test_gateway_errors_get_the_contract_status_and_body(kind: str, status: str, code: str) -> None:
    response = template.gateway_responses(load_stage("prod"))[kind]
    assert response["statusCode"] == status
    body = _render(response["responseTemplates"]["application/json"])
    assert body["code"] == code
    assert body["request_id"] == "req-1"
    assert set(body) == {"error", "code", "request_id"}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_every_gateway_response_is_valid_json_with_cors_and_request_id(stage: Stage) -> None:
    responses = template.gateway_responses(stage)
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= responses.keys()
    for response in responses.values():
        body = _render(response["responseTemplates"]["application/json"])
        assert body["code"] in CONTRACT_CODES | {"bad_request"}
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{stage.cors_allow_origin}'"
        assert "X-Request-Id" in headers["gatewayresponse.header.Access-Control-Expose-Headers"]
        assert headers["gatewayresponse.header.X-Request-Id"] == "context.requestId"


def test_defaults_keep_the_gateway_status_and_message() -> None:
    responses = template.gateway_responses(load_stage("dev"))
    assert "statusCode" not in responses["DEFAULT_5XX"]
    assert _render(responses["DEFAULT_5XX"]["responseTemplates"]["application/json"]) == {
        "error": "Gateway says no",
        "code": "internal_error",
        "request_id": "req-1",
    }


@pytest.mark.parametrize("kind", ["THROTTLED", "AUTHORIZER_FAILURE"])
def test_throttled_and_authorizer_failure_say_when_to_retry(kind: str) -> None:
    response = template.gateway_responses(load_stage("prod"))[kind]
    assert response["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_api_stage_is_traced_throttled_and_access_logged(stage: Stage) -> None:
    properties = template.rest_api_properties(stage)
    assert properties["TracingEnabled"] is True
    (settings,) = properties["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (
        stage.limits.rate,
        stage.limits.burst,
    )
    assert settings["DataTraceEnabled"] is False  # bodies and tokens never reach the logs
    log_format = json.loads(properties["AccessLogSetting"]["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert "Fn::Sub" in properties["AccessLogSetting"]["DestinationArn"]


def test_prod_limits_are_higher_than_dev() -> None:
    assert load_stage("prod").limits.rate > load_stage("dev").limits.rate


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_functions_are_named_as_chalice_deploy_names_them_and_get_the_table_by_reference(
    stage: Stage,
) -> None:
    resources = template.merge_template(stage)["Resources"]
    assert resources[template.API_HANDLER]["Properties"]["FunctionName"] == f"storefront-{stage.name}"
    assert resources[template.AUTHORIZER]["Properties"]["FunctionName"] == f"storefront-{stage.name}-jwt_auth"
    for function in (template.API_HANDLER, template.AUTHORIZER):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": template.TABLE}


def test_deployed_stages_are_traced_with_hand_written_policies_and_local_stages_untouched() -> None:
    stages = load_config()["stages"]
    for name in DEPLOYED_STAGES:
        assert stages[name]["xray"] is True
        assert stages[name]["autogen_policy"] is False
        assert stages[name]["iam_policy_file"] == f"policy-{name}.json"
    assert stages["local"]["environment_variables"]["STAGE"] == "local"
    assert stages["test"]["environment_variables"]["STAGE"] == "test"
    assert "iam_policy_file" not in stages["local"]
    assert "iam_policy_file" not in stages["test"]


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown deployed stage"):
        load_stage("local")
