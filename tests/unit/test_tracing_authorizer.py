"""The authorizer wrapper: one decision line per call (never the token), the decision
unchanged, and a handler name chalice can deploy."""

from __future__ import annotations

import io
import json

import pytest
from chalice.app import AuthRequest, AuthResponse

from chalicelib.api.auth import authorize
from chalicelib.api.authorizer_trace import traced_authorizer
from tests.helpers import token_for

pytestmark = pytest.mark.usefixtures("table")  # a token's session lives in the table
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/users/me"


def test_an_allowed_token_is_logged_as_allow_with_the_user_but_not_the_token(log_stream: io.StringIO) -> None:
    token = token_for("user-7")
    result = traced_authorizer(authorize)(AuthRequest("TOKEN", f"Bearer {token}", ARN))
    (line,) = [json.loads(text) for text in log_stream.getvalue().splitlines()]
    assert isinstance(result, AuthResponse)
    assert result.to_dict(AuthRequest("TOKEN", "", ARN))["principalId"] == "user-7"
    assert (line["message"], line["outcome"], line["user_id"]) == ("authorizer", "allow", "user-7")
    assert token not in log_stream.getvalue()
    assert token.split(".")[2] not in log_stream.getvalue()


def test_a_bad_token_is_logged_as_deny_without_a_user(log_stream: io.StringIO) -> None:
    result = traced_authorizer(authorize)(AuthRequest("TOKEN", "Bearer not-a-jwt", ARN))
    (line,) = [json.loads(text) for text in log_stream.getvalue().splitlines()]
    assert isinstance(result, dict)
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert line["outcome"] == "deny"
    assert "user_id" not in line  # None values are left out of non-access lines
    assert "not-a-jwt" not in log_stream.getvalue()


def test_the_wrapper_keeps_the_wrapped_functions_name() -> None:
    assert traced_authorizer(authorize).__name__ == "authorize"
