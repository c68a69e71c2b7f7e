"""The Lambda handlers the template names really are Lambda handlers.

Each function in the package is `Handler: <module>.<attribute>`; Lambda imports that
module and calls the attribute with (event, context). chalice derives the string from the
decorated function's `__name__`, so an authorizer registered as
`jwt_auth = bp.authorizer(name="jwt_auth")(authorize)` is deployed as
`chalicelib.api.auth.authorize`: the undecorated function, which cannot take an event.
This resolves every handler string the way Lambda does and invokes it with an API Gateway
event, without any network.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from chalice.app import Chalice, ChaliceAuthorizer

from app import app
from bench.lambda_sim import proxy_event
from tests.helpers import token_for

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/users/me"


def _resolve(handler_string: str) -> Any:
    module, _, attribute = handler_string.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def _authorizer_handlers() -> list[str]:
    return [config.handler_string for config in app.builtin_auth_handlers]


def _token_event(token: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN}


class _LambdaContext:
    """The attributes of the context object Lambda passes to a Python handler."""

    aws_request_id = "lambda-req-1"
    function_name = "storefront-prod"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:storefront-prod"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def test_api_handler_string_is_the_chalice_app() -> None:
    assert isinstance(_resolve("app.app"), Chalice)


def test_api_handler_invoked_as_lambda_answers_with_the_gateway_request_id() -> None:
    # Given the handler Lambda resolves from "app.app" and a proxy event for /health
    handler = _resolve("app.app")
    # When Lambda calls it
    response = handler(
        proxy_event(
            {"path": "/health", "headers": {"Accept": "application/json"}, "request_id": "apigw-req-1"}
        ),
        _LambdaContext(),
    )
    # Then it is a proxy response carrying API Gateway's request id
    assert response["statusCode"] == 200
    assert response["headers"]["X-Request-Id"] == "apigw-req-1"
    assert json.loads(response["body"])["status"] == "ok"


@pytest.mark.parametrize("handler_string", _authorizer_handlers())
def test_authorizer_handler_string_is_the_chalice_authorizer(handler_string: str) -> None:
    assert isinstance(_resolve(handler_string), ChaliceAuthorizer)


@pytest.mark.parametrize("handler_string", _authorizer_handlers())
@pytest.mark.usefixtures("table")  # the token's session lives in the table
def test_authorizer_as_lambda_invokes_it_allows_a_valid_token_and_denies_a_bad_one(
    handler_string: str,
) -> None:
    handler = _resolve(handler_string)
    allowed = handler(_token_event(f"Bearer {token_for('u-1', 'admin')}"), {})
    denied = handler(_token_event("Bearer not-a-jwt"), {})
    assert allowed["principalId"] == "u-1"
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
