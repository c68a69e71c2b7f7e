"""Any token, any bytes: `verify_token` refuses with InvalidTokenError only, and the
authorizer, called as Lambda calls it, answers with a policy — never an exception.

The header and the claims of a token are attacker-controlled JSON. Tokens are built by
hand (base64url JSON + HMAC), so that the header can hold anything, and signed with the
suite's real key half of the time, so that claim validation runs too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib.api.auth import jwt_auth
from chalicelib.config import get_settings
from chalicelib.security.keys import get_keyring
from chalicelib.security.tokens import Claims, InvalidTokenError, verify_token

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/users/me"
# The field report: kid "é" made hmac.compare_digest raise TypeError (a 500 on API Gateway).
NON_ASCII_KID_TOKEN = "eyJhbGciOiJIUzI1NiIsImtpZCI6Ilx1MDBlOSJ9.eyJzdWIiOiJ4In0.eA"

# Any character, lone surrogates included (JSON's \ud800 escapes decode to them).
any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(any_text, json_values, max_size=6)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims_like(overrides: dict[str, Any]) -> dict[str, Any]:
    """Valid claims, then whatever the strategy put in their place."""
    settings, now = get_settings(), int(time.time())
    base = {
        "sub": "01USER",
        "role": "user",
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": "j",
    }
    return {**base, **overrides}


def build(header: dict[str, Any], payload: dict[str, Any], sign: bool) -> str:
    """header.payload.signature, signed with the current key when `sign`."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    key = get_keyring().current.secret if sign else b"not-the-key-" * 4
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def verify_or_refuse(token: str) -> Claims | None:
    """The claims, or None when refused; any other exception fails the test."""
    try:
        return verify_token(token, get_keyring(), get_settings())
    except InvalidTokenError:
        return None


def decide_as_lambda(authorization: str) -> dict[str, Any]:
    """The deployed handler (app.jwt_auth) with a TOKEN event, as API Gateway invokes it."""
    event = {"type": "TOKEN", "authorizationToken": authorization, "methodArn": ARN}
    policy: dict[str, Any] = jwt_auth(event, None)
    return policy


@given(kid=json_values | any_text)
@example(kid="é")
@example(kid="\ud800")
@example(kid=["a"])
def test_any_kid_is_refused_without_an_exception(kid: Any) -> None:
    token = build({"alg": "HS256", "kid": kid}, claims_like({}), sign=True)
    assert verify_or_refuse(token) is None


def test_the_reported_non_ascii_kid_token_is_refused() -> None:
    assert verify_or_refuse(NON_ASCII_KID_TOKEN) is None
    policy = decide_as_lambda(f"Bearer {NON_ASCII_KID_TOKEN}")
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"


@given(header=json_objects, payload=json_objects, sign=st.booleans())
def test_arbitrary_header_and_claims_never_raise_anything_but_a_refusal(
    header: dict[str, Any], payload: dict[str, Any], sign: bool
) -> None:
    token = build(header, payload, sign)
    assert verify_or_refuse(token) is None  # no valid kid/alg in an arbitrary header


@given(overrides=json_objects)
@example(overrides={"role": []})
@example(overrides={"iat": 1e400})
@example(overrides={"iat": []})
@example(overrides={"sub": 7})
@example(overrides={"exp": "soon"})
def test_validly_signed_tokens_with_arbitrary_claims_verify_or_are_refused(
    overrides: dict[str, Any],
) -> None:
    key = get_keyring().current
    token = build({"alg": "HS256", "kid": key.kid, "typ": "JWT"}, claims_like(overrides), sign=True)
    claims = verify_or_refuse(token)
    if claims is not None:  # what got through is exactly what a valid token says
        assert claims.role in {"user", "admin"}
        assert isinstance(claims.user_id, str)
        assert claims.user_id


@given(raw=st.binary(max_size=300) | any_text)
@example(raw=b"\xff\xfe.\x00.\x80")
def test_raw_bytes_are_refused(raw: bytes | str) -> None:
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    assert verify_or_refuse(text) is None


@given(authorization=any_text | st.builds(lambda t: f"Bearer {t}", any_text))
@example(authorization=f"Bearer {NON_ASCII_KID_TOKEN}")
def test_the_lambda_authorizer_answers_any_header_with_a_deny_policy(authorization: str) -> None:
    policy = decide_as_lambda(authorization)
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert policy["principalId"] == "anonymous"
