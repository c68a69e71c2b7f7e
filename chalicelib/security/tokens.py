"""Issue and verify access tokens (JWT, HS256, pinned; `kid` names the signing key)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from chalicelib.config import Settings
from chalicelib.models.roles import ROLES
from chalicelib.security.keys import KeyRing

ALGORITHM = "HS256"
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud", "jti", "sid"]
# docs/api.md caps an access token's life at 15 minutes whatever TOKEN_TTL_SECONDS says
# (its documented default, 3600, predates sessions): a session lives on through refresh.
MAX_ACCESS_TOKEN_SECONDS = 900
MAX_TOKEN_CHARS = 4096
MAX_ID_CHARS = 64


class InvalidTokenError(Exception):
    """The token is not one this service issued, or no longer valid. Deliberately vague."""


@dataclass(frozen=True)
class Claims:
    """What a verified access token says: who, in which role, which token, until when."""

    user_id: str
    role: str
    token_id: str
    expires_at: int
    session_id: str


def access_token_ttl(settings: Settings) -> int:
    """An access token's lifetime: TOKEN_TTL_SECONDS, at most 15 minutes."""
    return max(1, min(settings.token_ttl_seconds, MAX_ACCESS_TOKEN_SECONDS))


def issue_token(
    user_id: str,
    role: str,
    keyring: KeyRing,
    settings: Settings,
    now: float | None = None,
    *,
    session_id: str,
) -> tuple[str, int]:
    """A signed access token of one session and its lifetime in seconds."""
    issued = int(now if now is not None else time.time())
    ttl = access_token_ttl(settings)
    claims = {
        "sub": user_id,
        "role": role,
        "sid": session_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    import jwt  # deferred: only /auth/token and the authorizer pay for PyJWT

    key = keyring.current
    token = jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})
    return token, ttl


def verify_token(token: str, keyring: KeyRing, settings: Settings, now: float | None = None) -> Claims:
    """The claims of a valid token; InvalidTokenError for anything else."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidTokenError("missing or oversized token")
    try:
        return _verified_claims(token, keyring, settings, now)
    except InvalidTokenError:
        raise
    except Exception as exc:
        # Every part of a token is attacker-controlled: whatever a malformed header or
        # claim makes PyJWT or this code raise (DecodeError, but also TypeError on an
        # unhashable claim, OverflowError on 1e400, RecursionError on deep nesting),
        # the answer is the same refusal, never a 5xx.
        raise InvalidTokenError("invalid token") from exc


def _verified_claims(token: str, keyring: KeyRing, settings: Settings, now: float | None) -> Claims:
    import jwt  # deferred, as above

    header = jwt.get_unverified_header(token)
    key = keyring.find(header.get("kid"))
    if key is None or header.get("alg") != ALGORITHM:
        raise InvalidTokenError("unknown key or algorithm")
    options = {"require": REQUIRED_CLAIMS, "verify_signature": True}
    payload = jwt.decode(
        token,
        key.secret,
        algorithms=[ALGORITHM],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        leeway=LEEWAY_SECONDS,
        options=options,  # type: ignore[arg-type]
    )
    current = int(now if now is not None else time.time())
    if int(payload["iat"]) > current + LEEWAY_SECONDS:
        raise InvalidTokenError("issued in the future")
    role, subject, session = payload.get("role"), payload["sub"], payload["sid"]
    # Claims are JSON of any type: `role` may be a list (unhashable), `sub` a number.
    if not isinstance(role, str) or role not in ROLES or not _is_id(subject) or not _is_id(session):
        raise InvalidTokenError("bad claims")
    return Claims(
        user_id=subject,
        role=role,
        token_id=str(payload["jti"]),
        expires_at=int(payload["exp"]),
        session_id=session,
    )


def _is_id(value: object) -> bool:
    # Ids become DynamoDB key parts: a non-string or over-long one must not get that far.
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS
