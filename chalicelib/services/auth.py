"""The login use case: credentials → access token, with a failed-login lockout.

Unknown e-mail and wrong password raise the same error after the same work (one Argon2
verification), so neither the answer nor its timing tells who is registered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.config import Settings
from chalicelib.errors import InvalidCredentialsError, RateLimitedError
from chalicelib.models.users import TokenPublic, TokenRequest, UserItem
from chalicelib.observability import business_event
from chalicelib.security.keys import KeyRing
from chalicelib.security.passwords import PasswordHasher
from chalicelib.services import sessions
from chalicelib.store import login_attempts
from chalicelib.store import users as user_store
from chalicelib.store.table import Table


@dataclass(frozen=True)
class LockoutPolicy:
    """After `max_failures` failures within `window_seconds`, logins are refused until the
    window closes (counted per e-mail address, registered or not)."""

    max_failures: int = 5
    window_seconds: int = 15 * 60


@dataclass(frozen=True)
class TokenIssuer:
    """What signing a token needs."""

    keyring: KeyRing
    settings: Settings


def _check_lockout(table: Table, email: str, now: int, policy: LockoutPolicy) -> bool:
    """True if a window is open (so a success must clear it); RateLimitedError when locked."""
    attempts = login_attempts.current(table, email, now, policy.window_seconds)
    if attempts is None:
        return False
    if attempts.count >= policy.max_failures:
        raise RateLimitedError(retry_after=max(1, attempts.window_start + policy.window_seconds - now))
    return True


def _authenticate(table: Table, body: TokenRequest, hasher: PasswordHasher) -> UserItem | None:
    user = user_store.get_by_email(table, body.email)
    if user is None:
        hasher.verify_dummy(body.password)
        return None
    if not hasher.verify(user.password_hash, body.password):
        return None
    if hasher.needs_rehash(user.password_hash):
        # The policy was raised since this hash was made: upgrade it while we hold the password.
        new_hash = hasher.hash(body.password)
        if user_store.replace_password_hash(table, user.id, user.password_hash, new_hash):
            user = user.model_copy(update={"password_hash": new_hash})  # the session checks it
    return user


def login(
    table: Table,
    body: TokenRequest,
    hasher: PasswordHasher,
    issuer: TokenIssuer,
    policy: LockoutPolicy = LockoutPolicy(),
    now: int | None = None,
) -> TokenPublic:
    """A new session (access and refresh token) for valid credentials;
    InvalidCredentialsError or RateLimitedError."""
    moment = int(time.time()) if now is None else now
    window_open = _check_lockout(table, body.email, moment, policy)
    user = _authenticate(table, body, hasher)
    if user is None:
        login_attempts.record_failure(table, body.email, moment, policy.window_seconds)
        business_event("login_failed")
        raise InvalidCredentialsError()
    if window_open:
        login_attempts.clear(table, body.email)
    # `now` drives the lockout window only; a session always starts at the real time.
    return sessions.start_session(table, user, issuer.keyring, issuer.settings, int(time.time()))
