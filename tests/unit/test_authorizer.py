"""The JWT authorizer called directly, as API Gateway would: a battery of bad tokens."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from chalice.app import AuthRequest, AuthResponse

from chalicelib.api.auth import authorize
from chalicelib.config import get_settings
from chalicelib.security.keys import KeyRing, get_keyring, make_key
from chalicelib.security.tokens import issue_token
from tests.helpers import token_for

# The authorizer reads the token's session: every token here belongs to a real one.
pytestmark = pytest.mark.usefixtures("table")
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/users/me"
OTHER_KEY = "someone-elses-key-" + "z" * 40


def decide(authorization: str) -> dict[str, Any]:
    """The policy document API Gateway would receive."""
    result = authorize(AuthRequest("TOKEN", authorization, ARN))
    request = AuthRequest("TOKEN", authorization, ARN)
    return result.to_dict(request) if isinstance(result, AuthResponse) else result


def effect(policy: dict[str, Any]) -> str:
    statements = policy["policyDocument"]["Statement"]
    assert len(statements) == 1
    return str(statements[0]["Effect"])


def live_session_id() -> str:
    """The id of a live session of 01USER (so a refusal below is about the claim changed)."""
    return str(jwt.decode(token_for("01USER"), options={"verify_signature": False})["sid"])


def signed(**overrides: Any) -> str:
    settings = get_settings()
    now = int(time.time())
    payload = {
        "sub": "01USER",
        "role": "user",
        "sid": live_session_id(),
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": "j1",
        **overrides,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    key = get_keyring().current
    return jwt.encode(payload, key.secret, algorithm="HS256", headers={"kid": key.kid})


def test_valid_bearer_token_is_allowed_on_every_route_with_role_in_context() -> None:
    policy = decide(f"Bearer {token_for('01USER', 'admin')}")
    assert effect(policy) == "Allow"
    assert policy["principalId"] == "01USER"
    assert set(policy["context"]) == {"role", "session_id"}
    assert policy["context"]["role"] == "admin"
    assert policy["policyDocument"]["Statement"][0]["Resource"] == [
        "arn:aws:execute-api:us-east-1:123456789012:abc123/api/*/*"
    ]


def test_a_hand_signed_token_of_a_live_session_is_allowed() -> None:
    # The control for the battery below: each bad token differs from this one in one way.
    assert effect(decide(f"Bearer {signed()}")) == "Allow"


def test_bearer_scheme_is_case_insensitive() -> None:
    assert effect(decide(f"bearer {token_for('01USER')}")) == "Allow"


def _wrong_key() -> str:
    ring = KeyRing(current=make_key(OTHER_KEY))
    return f"Bearer {issue_token('01USER', 'admin', ring, get_settings(), session_id='01SESSION')[0]}"


def _tampered() -> str:
    header, payload, signature = token_for("01USER").split(".")
    forged = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"user"', b'"admin"')
    ).decode()
    return f"Bearer {header}.{forged}.{signature}"


def _alg_none() -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    payload = token_for("01USER", "admin").split(".")[1]
    return f"Bearer {header}.{payload}."


BAD: dict[str, Any] = {
    "empty header": lambda: "",
    "no Bearer scheme": lambda: token_for("01USER"),
    "Basic scheme": lambda: "Basic dXNlcjpwYXNz",
    "Bearer without a token": lambda: "Bearer ",
    "Bearer and spaces": lambda: "Bearer    ",
    "garbage": lambda: "Bearer garbage",
    "alg none": _alg_none,
    "tampered payload": _tampered,
    "wrong key": _wrong_key,
    "expired": lambda: f"Bearer {signed(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)}",
    "future iat": lambda: f"Bearer {signed(iat=int(time.time()) + 600, exp=int(time.time()) + 1200)}",
    "future nbf": lambda: f"Bearer {signed(nbf=int(time.time()) + 600)}",
    "wrong issuer": lambda: f"Bearer {signed(iss='evil')}",
    "wrong audience": lambda: f"Bearer {signed(aud='other')}",
    "missing sub": lambda: f"Bearer {signed(sub=None)}",
    "missing jti": lambda: f"Bearer {signed(jti=None)}",
    "missing exp": lambda: f"Bearer {signed(exp=None)}",
    "missing sid": lambda: f"Bearer {signed(sid=None)}",
    "unknown sid": lambda: f"Bearer {signed(sid='01NOSUCHSESSION')}",
    "another user's sid": lambda: f"Bearer {signed(sub='01OTHER')}",
    "unknown role": lambda: f"Bearer {signed(role='superuser')}",
    "two tokens": lambda: f"Bearer {token_for('01USER')} {token_for('01USER')}",
    "100 KB header": lambda: "Bearer " + "a" * 100 * 1024,
    "100 KB of valid-looking token": lambda: f"Bearer {signed(pad='x' * 100 * 1024)}",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_credentials_get_an_explicit_deny(name: str) -> None:
    policy = decide(BAD[name]())
    assert effect(policy) == "Deny"
    assert policy["principalId"] == "anonymous"
    assert policy["context"] == {}
