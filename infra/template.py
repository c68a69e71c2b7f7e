"""The CloudFormation merged into `chalice package --merge-template`: everything chalice
does not generate (the table, the API stage's settings, the gateway's own error bodies,
access logs) and the few values it must pin (function names, policies, table wiring).

Built from code, not kept as a file, so that the table's key schema comes from
`chalicelib/store/schema.py` — the same definition `manage.py create-table` uses.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.api.headers import EXPOSED_HEADERS
from chalicelib.store import schema
from infra import events, iam, mail, release, webhooks
from infra.stage import Stage

# Logical ids chalice gives its resources (chalice/package.py); a merge that names one it
# did not generate would leave a resource without a Type, which cfn-lint rejects.
REST_API = "RestAPI"
API_HANDLER = "APIHandler"
AUTHORIZER = "JwtAuth"
API_HANDLER_ROLE = "ApiHandlerRole"
AUTHORIZER_ROLE = "JwtAuthRole"
SWEEP = "ExpireOrders"  # the scheduled expiry sweep (chalicelib/api/sweep.py)
SWEEP_ROLE = "ExpireOrdersRole"
TABLE = "StorefrontTable"
ACCESS_LOGS = "ApiAccessLogs"
# chalice names the API handler's log group "/aws/lambda/${ApiHandler}", a resource that
# does not exist (the function is APIHandler): both groups get their literal names.
FUNCTION_LOG_GROUPS = {
    "ApiHandlerLogGroup": "api_function_name",
    "JwtAuthLogGroup": "authorizer_function_name",
    "ExpireOrdersLogGroup": "sweep_function_name",
}

# API Gateway's own responses → (status, code, message) of the app's error body (docs/api.md).
# An explicit Deny from the authorizer is ACCESS_DENIED: docs/api.md calls it a 401.
# An unknown route reaches API Gateway as MISSING_AUTHENTICATION_TOKEN: a 404.
GATEWAY_RESPONSES: dict[str, tuple[int, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "Resource not found"),
    "RESOURCE_NOT_FOUND": (404, "not_found", "Resource not found"),
    "UNAUTHORIZED": (401, "unauthorized", "Unauthorized"),
    "ACCESS_DENIED": (401, "unauthorized", "Unauthorized"),
    "THROTTLED": (429, "rate_limited", "Too many requests"),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "Request body is too large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type", "Request body must be application/json"),
    # The authorizer raised (it does when the signing key cannot be read from SSM, rather
    # than deny a valid token): the client should retry, not drop its credentials.
    "AUTHORIZER_FAILURE": (503, "service_unavailable", "Service temporarily unavailable"),
}
# The defaults keep the gateway's status code; their message is the gateway's own
# (messageString is already a quoted JSON string).
DEFAULT_RESPONSES: dict[str, str] = {"DEFAULT_4XX": "bad_request", "DEFAULT_5XX": "internal_error"}
THROTTLED_RETRY_AFTER_SECONDS = 1
# On every gateway response, as the app sets them on its own errors: an error body is never
# cached (a 401 must not be replayed by a proxy) nor sniffed into another content type.
GATEWAY_RESPONSE_SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "xrayTraceId": "$context.xrayTraceId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "errorType": "$context.error.responseType",
    "principalId": "$context.authorizer.principalId",
}


def merge_template(stage: Stage) -> dict[str, Any]:
    """The document for `chalice package --merge-template` for one stage."""
    document = {
        "Description": f"Storefront API ({stage.name}): chalice-generated functions and API, plus infra/",
        "Resources": {
            TABLE: table_resource(stage),
            **{
                group: {"Properties": {"LogGroupName": f"/aws/lambda/{getattr(stage, attr)}"}}
                for group, attr in FUNCTION_LOG_GROUPS.items()
            },
            ACCESS_LOGS: {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "Retain" if stage.protected else "Delete",
                "UpdateReplacePolicy": "Retain" if stage.protected else "Delete",
                "Properties": {
                    "LogGroupName": f"/aws/apigateway/{stage.api_function_name}-access",
                    "RetentionInDays": stage.log_retention_days,
                },
            },
            REST_API: {"Properties": rest_api_properties(stage)},
            API_HANDLER: {"Properties": _function_properties(stage.api_function_name)},
            AUTHORIZER: {"Properties": _function_properties(stage.authorizer_function_name)},
            API_HANDLER_ROLE: {"Properties": _role_properties(stage.api_policy_file, API_HANDLER_ROLE)},
            AUTHORIZER_ROLE: {"Properties": _role_properties(stage.authorizer_policy_file, AUTHORIZER_ROLE)},
            SWEEP: {"Properties": _function_properties(stage.sweep_function_name)},
            SWEEP_ROLE: {"Properties": _role_properties(stage.api_policy_file, SWEEP_ROLE)},
            **events.resources(stage, TABLE),
            **webhooks.resources(stage, TABLE),
        },
        "Outputs": {
            "TableName": {"Value": {"Ref": TABLE}},
            "AccessLogGroup": {"Value": {"Ref": ACCESS_LOGS}},
        },
    }
    return mail.with_mail(document, stage, API_HANDLER, API_HANDLER_ROLE)


def table_resource(stage: Stage) -> dict[str, Any]:
    """The table: key schema and indexes exactly as `manage.py create-table` makes them."""
    params = schema.create_table_params(stage.table_name)
    retain = "Retain" if stage.protected else "Delete"
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": retain,
        "UpdateReplacePolicy": retain,
        "Properties": {
            **params,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            # A KMS key (the AWS-managed aws/dynamodb) rather than the default AWS-owned
            # key: its use shows up in CloudTrail.
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "TimeToLiveSpecification": {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True},
            # CloudFormation spells a stream by its view type only (no StreamEnabled).
            "StreamSpecification": {"StreamViewType": schema.STREAM_VIEW_TYPE},
            "DeletionProtectionEnabled": stage.protected,
            "Tags": [{"Key": "app", "Value": stage.app_name}, {"Key": "stage", "Value": stage.name}],
        },
    }


def rest_api_properties(stage: Stage) -> dict[str, Any]:
    """The API stage's settings (chalice sets none of them) and the gateway responses."""
    return {
        # One name per stage: the ApiName dimension of the API's metrics, which the alarms
        # and the dashboard select on (without it both stages would be "storefront").
        "Name": release.api_name(stage),
        "TracingEnabled": True,
        "MethodSettings": [
            {
                "ResourcePath": "/*",
                "HttpMethod": "*",
                "ThrottlingRateLimit": stage.limits.rate,
                "ThrottlingBurstLimit": stage.limits.burst,
                "MetricsEnabled": True,
                # Execution logs for errors only, never request/response bodies (tokens).
                "LoggingLevel": "ERROR",
                "DataTraceEnabled": False,
            }
        ],
        "AccessLogSetting": {
            # The log group's ARN without the ":*" that Fn::GetAtt appends.
            "DestinationArn": {
                "Fn::Sub": f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}"
                f":log-group:${{{ACCESS_LOGS}}}"
            },
            "Format": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
        },
        "DefinitionBody": {"x-amazon-apigateway-gateway-responses": gateway_responses(stage)},
    }


def gateway_responses(stage: Stage) -> dict[str, Any]:
    """API Gateway's own errors in the app's error body (docs/api.md), with CORS headers."""
    responses: dict[str, Any] = {}
    for kind, (status, code, message) in GATEWAY_RESPONSES.items():
        body = json.dumps(message)
        responses[kind] = _gateway_response(stage, code, body, status)
    for kind, code in DEFAULT_RESPONSES.items():
        responses[kind] = _gateway_response(stage, code, "$context.error.messageString", None)
    for kind in ("THROTTLED", "AUTHORIZER_FAILURE"):
        responses[kind]["responseParameters"]["gatewayresponse.header.Retry-After"] = (
            f"'{THROTTLED_RETRY_AFTER_SECONDS}'"
        )
    return responses


def _gateway_response(stage: Stage, code: str, message_json: str, status: int | None) -> dict[str, Any]:
    body = f'{{"error":{message_json},"code":"{code}","request_id":"$context.requestId"}}'
    response: dict[str, Any] = {
        "responseParameters": {
            "gatewayresponse.header.Access-Control-Allow-Origin": f"'{stage.cors_allow_origin}'",
            "gatewayresponse.header.Access-Control-Expose-Headers": f"'{EXPOSED_HEADERS}'",
            "gatewayresponse.header.X-Request-Id": "context.requestId",
            **{f"gatewayresponse.header.{k}": f"'{v}'" for k, v in GATEWAY_RESPONSE_SECURITY_HEADERS.items()},
        },
        "responseTemplates": {"application/json": body},
    }
    if status is not None:
        response["statusCode"] = str(status)
    return response


def _function_properties(function_name: str) -> dict[str, Any]:
    # The names `chalice deploy` uses, so the policies' log-group ARNs hold on both paths;
    # TABLE_NAME by reference, so a function is created only once its table exists.
    return {"FunctionName": function_name, "Environment": {"Variables": {"TABLE_NAME": {"Ref": TABLE}}}}


def _role_properties(policy_file: Any, name: str) -> dict[str, Any]:
    document = iam.pin_to_stack(iam.load_policy(policy_file))
    return {"Policies": [{"PolicyName": f"{name}Policy", "PolicyDocument": document}]}
