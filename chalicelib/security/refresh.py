"""Refresh tokens: opaque, random, and stored only as a digest.

A refresh token reads `<user_id>.<session_id>.<secret>`: the first two name the session
item (so a refresh is one GetItem/UpdateItem away from it, no index), the secret is 256
random bits. The table keeps SHA-256(session_id, secret), truncated to 128 bits: the
secret has full entropy, so no salt or slow hash is needed (nothing to brute-force), and
128 bits keep a preimage out of reach while every spent digest stays small to store.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

SECRET_BYTES = 32
MAX_TOKEN_LENGTH = 64 + 1 + 64 + 1 + 43
_PART = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32): 43 characters, no padding


@dataclass(frozen=True)
class RefreshToken:
    """A parsed refresh token; `digest` is what the table can compare it with."""

    user_id: str
    session_id: str
    digest: str


def digest(session_id: str, secret: str) -> str:
    """The stored form of a secret: 128 bits of SHA-256 over the session id and the secret."""
    raw = hashlib.sha256(f"storefront-refresh\x00{session_id}\x00{secret}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_refresh_token(user_id: str, session_id: str) -> tuple[str, str]:
    """A fresh refresh token for the session and its digest."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return f"{user_id}.{session_id}.{secret}", digest(session_id, secret)


def parse_refresh_token(token: str) -> RefreshToken | None:
    """The session a token names and its digest; None if it cannot be one of ours."""
    if len(token) > MAX_TOKEN_LENGTH:  # no need to split a megabyte to refuse it
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    user_id, session_id, secret = parts
    if not (_PART.fullmatch(user_id) and _PART.fullmatch(session_id) and _SECRET.fullmatch(secret)):
        return None
    return RefreshToken(user_id=user_id, session_id=session_id, digest=digest(session_id, secret))
