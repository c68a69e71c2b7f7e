"""Access tokens: the claims issued, and every way verification refuses a token."""

from __future__ import annotations

import base64
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from chalicelib.config import load_settings
from chalicelib.security.keys import KeyRing, build_keyring, make_key
from chalicelib.security.tokens import ALGORITHM, InvalidTokenError, issue_token, verify_token

OLD = "old-key-" + "o" * 40
CURRENT = "current-key-" + "c" * 40
NEW = "new-key-" + "n" * 40
SETTINGS = load_settings({"STAGE": "test", "JWT_SECRET": CURRENT, "TOKEN_TTL_SECONDS": "900"})
RING = build_keyring(SETTINGS)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "01USER",
        "role": "user",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "jti": "abc123",
        "sid": "01SESSION",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], secret: str = CURRENT, **header: Any) -> str:
    return jwt.encode(payload, secret, algorithm=ALGORITHM, headers={"kid": make_key(secret).kid, **header})


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issued_token_carries_the_contract_claims_and_a_kid() -> None:
    token, expires_in = issue_token("01USER", "admin", RING, SETTINGS, session_id="01SESSION")
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": "HS256", "typ": "JWT", "kid": RING.current.kid}
    assert set(payload) >= {"sub", "role", "sid", "iat", "exp", "iss", "aud", "jti"}
    assert payload["exp"] - payload["iat"] == expires_in == 900
    assert (payload["sub"], payload["role"], payload["sid"]) == ("01USER", "admin", "01SESSION")


@pytest.mark.parametrize(("configured", "issued"), [("3600", 900), ("901", 900), ("900", 900), ("60", 60)])
def test_access_tokens_live_at_most_15_minutes_whatever_the_setting(configured: str, issued: int) -> None:
    settings = load_settings({"STAGE": "test", "JWT_SECRET": CURRENT, "TOKEN_TTL_SECONDS": configured})
    token, expires_in = issue_token("01USER", "user", RING, settings, session_id="01SESSION")
    payload = jwt.decode(token, options={"verify_signature": False})
    assert expires_in == payload["exp"] - payload["iat"] == issued


def test_every_token_has_its_own_jti() -> None:
    first, _ = issue_token("u", "user", RING, SETTINGS, session_id="01SESSION")
    second, _ = issue_token("u", "user", RING, SETTINGS, session_id="01SESSION")
    assert (
        jwt.decode(first, options={"verify_signature": False})["jti"]
        != jwt.decode(second, options={"verify_signature": False})["jti"]
    )


def test_a_fresh_token_verifies_to_its_claims() -> None:
    token, _ = issue_token("01USER", "admin", RING, SETTINGS, session_id="01SESSION")
    verified = verify_token(token, RING, SETTINGS)
    assert (verified.user_id, verified.role, verified.session_id) == ("01USER", "admin", "01SESSION")


def test_rotation_previous_key_verifies_retired_key_does_not() -> None:
    before = KeyRing(current=make_key(OLD))
    old_token, _ = issue_token("u1", "user", before, SETTINGS, session_id="01SESSION")
    rotated = KeyRing(current=make_key(CURRENT), previous=(make_key(OLD),))
    assert verify_token(old_token, rotated, SETTINGS).user_id == "u1"
    new_token, _ = issue_token("u2", "user", rotated, SETTINGS, session_id="01SESSION")
    assert jwt.get_unverified_header(new_token)["kid"] == make_key(CURRENT).kid
    retired = KeyRing(current=make_key(NEW), previous=(make_key(CURRENT),))
    assert verify_token(new_token, retired, SETTINGS).user_id == "u2"
    with pytest.raises(InvalidTokenError):
        verify_token(old_token, retired, SETTINGS)


def _alg_none() -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': RING.current.kid})}.{b64(claims())}."


def _tampered() -> str:
    header, _, signature = sign(claims()).split(".")
    return f"{header}.{b64(claims(role='admin'))}.{signature}"


def _hand_signed(alg: str, digest: str) -> str:
    """A token signed with our secret under a header that names another algorithm."""
    signing_input = f"{b64({'alg': alg, 'typ': 'JWT', 'kid': RING.current.kid})}.{b64(claims())}"
    mac = hmac.new(CURRENT.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _hs_rs_confusion() -> str:
    # The classic confusion: an HMAC made with key material, presented as RS256.
    return _hand_signed("RS256", "sha256")


def _hs512() -> str:
    return _hand_signed("HS512", "sha512")


BAD_TOKENS: dict[str, Any] = {
    "empty": lambda: "",
    "garbage": lambda: "not-a-jwt",
    "two segments": lambda: "abc.def",
    "binary junk": lambda: "\x00\xff.\x01.\x02",
    "alg none": _alg_none,
    "tampered payload": _tampered,
    "wrong key": lambda: jwt.encode(
        claims(), "someone-else-" + "x" * 40, algorithm="HS256", headers={"kid": RING.current.kid}
    ),
    "unknown kid": lambda: sign(claims(), NEW),
    "no kid": lambda: jwt.encode(claims(), CURRENT, algorithm="HS256"),
    "hs/rs confusion": _hs_rs_confusion,
    "other hmac algorithm": _hs512,
    "expired": lambda: sign(claims(iat=int(time.time()) - 7200, nbf=None, exp=int(time.time()) - 3600)),
    "expired beyond the skew": lambda: sign(claims(exp=int(time.time()) - 31)),
    "future iat": lambda: sign(claims(iat=int(time.time()) + 300, nbf=None)),
    "future nbf": lambda: sign(claims(nbf=int(time.time()) + 300)),
    "wrong issuer": lambda: sign(claims(iss="someone-else")),
    "wrong audience": lambda: sign(claims(aud="another-api")),
    "missing sub": lambda: sign(claims(sub=None)),
    "missing exp": lambda: sign(claims(exp=None)),
    "missing iat": lambda: sign(claims(iat=None)),
    "missing iss": lambda: sign(claims(iss=None)),
    "missing aud": lambda: sign(claims(aud=None)),
    "missing jti": lambda: sign(claims(jti=None)),
    "unknown role": lambda: sign(claims(role="root")),
    "missing role": lambda: sign(claims(role=None)),
    "empty sub": lambda: sign(claims(sub="")),
    "numeric sub": lambda: sign(claims(sub=42)),
    "string exp": lambda: sign(claims(exp="tomorrow")),
    "missing sid": lambda: sign(claims(sid=None)),
    "empty sid": lambda: sign(claims(sid="")),
    "numeric sid": lambda: sign(claims(sid=7)),
    "over-long sid": lambda: sign(claims(sid="s" * 65)),
    "over-long sub": lambda: sign(claims(sub="u" * 65)),
    "oversized": lambda: sign(claims(pad="x" * 100_000)),
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_bad_token_is_refused(name: str) -> None:
    with pytest.raises(InvalidTokenError):
        verify_token(BAD_TOKENS[name](), RING, SETTINGS)


def test_clock_skew_of_up_to_30_seconds_is_tolerated() -> None:
    now = int(time.time())
    assert verify_token(sign(claims(exp=now - 20)), RING, SETTINGS).user_id == "01USER"
    assert verify_token(sign(claims(iat=now + 20, nbf=now + 20)), RING, SETTINGS).user_id == "01USER"


def test_refusal_message_is_deliberately_vague() -> None:
    with pytest.raises(InvalidTokenError) as info:
        verify_token(sign(claims(aud="another-api")), RING, SETTINGS)
    assert "aud" not in str(info.value).lower()
