"""The JWT authorizer behind the emulated gateway: each kind of bad token gets the contract's
401 and error body from the gateway response; a logout reaches every route within the
authorizer's cache lifetime (shortened for the emulated stage)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests

from chalicelib.config import load_settings
from chalicelib.security.keys import KeyRing, make_key
from chalicelib.security.tokens import issue_token
from infra.emulator_template import EMULATED_AUTHORIZER_CACHE_SECONDS
from tests.deployed.conftest import Stack
from tests.deployed.test_journey import bearer, register_and_login


def assert_gateway_401(response: requests.Response) -> None:
    """The contract's 401 as the gateway response renders it."""
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["code"] == "unauthorized"
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def resigned(token: dict[str, Any], secret: str, issued_at: float) -> str:
    """A token for the same user and session, signed with `secret` and issued at `issued_at`."""
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    settings = load_settings({"TOKEN_TTL_SECONDS": "900"})
    ring = KeyRing(make_key(secret))
    sid = claims["sid"]
    signed, _ = issue_token(claims["sub"], claims["role"], ring, settings, issued_at, session_id=sid)
    return signed


def stage_key(stack: Stack) -> str:
    """The stage's signing key, from the emulator's SSM."""
    parameter = stack.aws("ssm").get_parameter(Name=stack.stage.jwt_secret_param, WithDecryption=True)
    return str(parameter["Parameter"]["Value"])


def test_a_valid_token_passes(http: requests.Session, stack: Stack) -> None:
    session = register_and_login(http, stack)
    assert http.get(stack.url("/users/me"), headers=bearer(session)).status_code == 200


def test_a_token_signed_here_with_the_stage_key_passes(http: requests.Session, stack: Stack) -> None:
    # The control for the two tests below: re-signing itself is not what they refuse.
    session = register_and_login(http, stack)
    token = resigned(session, stage_key(stack), time.time())
    assert http.get(stack.url("/users/me"), headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    ["Bearer garbage", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
)
def test_a_malformed_token_gets_the_contract_401(
    http: requests.Session, stack: Stack, authorization: str
) -> None:
    assert_gateway_401(http.get(stack.url("/users/me"), headers={"Authorization": authorization}))


def test_no_token_gets_the_contract_401(http: requests.Session, stack: Stack) -> None:
    assert_gateway_401(http.get(stack.url("/users/me")))


def test_an_expired_token_gets_the_contract_401(http: requests.Session, stack: Stack) -> None:
    session = register_and_login(http, stack)
    token = resigned(session, stage_key(stack), time.time() - 3600)
    assert_gateway_401(http.get(stack.url("/users/me"), headers={"Authorization": f"Bearer {token}"}))


def test_a_token_signed_with_another_key_gets_the_contract_401(http: requests.Session, stack: Stack) -> None:
    session = register_and_login(http, stack)
    token = resigned(session, "another-key-that-is-long-enough-0123456789abcdef", time.time())
    assert_gateway_401(http.get(stack.url("/users/me"), headers={"Authorization": f"Bearer {token}"}))


def test_a_logout_reaches_every_route_within_the_cache_lifetime(http: requests.Session, stack: Stack) -> None:
    # Given a token whose decision the gateway has cached
    session = register_and_login(http, stack)
    other = register_and_login(http, stack)
    assert http.get(stack.url("/users/me"), headers=bearer(session)).status_code == 200
    # When its session ends
    assert http.post(stack.url("/auth/logout"), headers=bearer(session)).status_code == 204
    ended = time.monotonic()
    # Then within the cache lifetime (plus a margin for the emulator) it is refused everywhere
    deadline = ended + EMULATED_AUTHORIZER_CACHE_SECONDS + 3
    while True:
        response = http.get(stack.url("/users/me"), headers=bearer(session))
        if response.status_code == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert_gateway_401(response)
    assert time.monotonic() - ended <= EMULATED_AUTHORIZER_CACHE_SECONDS + 3
    assert_gateway_401(http.get(stack.url("/orders"), headers=bearer(session)))
    # And another session is untouched
    assert http.get(stack.url("/users/me"), headers=bearer(other)).status_code == 200
