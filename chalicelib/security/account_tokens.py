"""Password-reset and e-mail-verification tokens: single use, random, stored only as a digest.

A token reads `<user_id>.<secret>`: the user id names the token's item (one GetItem or
UpdateItem away, no index), the secret is 256 random bits. The table keeps SHA-256 over
the purpose, the user id and the secret: the secret has full entropy, so no salt or slow
hash is needed, and a reset token can never pass for a verification token (or the
other way round), nor for another user's.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

Purpose = Literal["reset", "verify"]
RESET: Purpose = "reset"
VERIFY: Purpose = "verify"

SECRET_BYTES = 32
_USER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32): 43 characters, no padding


@dataclass(frozen=True)
class AccountToken:
    """A parsed token: whose it is, and the digest the table can compare it with."""

    user_id: str
    digest: str


def digest(purpose: Purpose, user_id: str, secret: str) -> str:
    """The stored form of a secret: SHA-256 over the purpose, the user id and the secret."""
    raw = hashlib.sha256(f"storefront-{purpose}\x00{user_id}\x00{secret}".encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_account_token(purpose: Purpose, user_id: str) -> tuple[str, str]:
    """A fresh token for the user and its digest."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return f"{user_id}.{secret}", digest(purpose, user_id, secret)


def parse_account_token(purpose: Purpose, token: str) -> AccountToken | None:
    """The user a token names and its digest; None if it cannot be one of ours."""
    user_id, dot, secret = token.partition(".")
    if not dot or not _USER.fullmatch(user_id) or not _SECRET.fullmatch(secret):
        return None
    return AccountToken(user_id=user_id, digest=digest(purpose, user_id, secret))
