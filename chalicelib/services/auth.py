"""The login use case: credentials → access token, with a login-attempt limit.

Each attempt is reserved (one conditional write on the address's counter) BEFORE its
password is checked, so at most `max_attempts` passwords are checked per address and
window, however many requests arrive at once; the rest get 429 with Retry-After.

Unknown e-mail and wrong password raise the same error after the same work: the same
DynamoDB calls (a reservation, two GetItems: the e-mail claim and a user) and one Argon2
verification with the same parameters (a dummy hash), so neither the answer nor the
calls nor the timing tell who is registered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.config import Settings
from chalicelib.errors import InvalidCredentialsError, RateLimitedError, ServiceUnavailableError
from chalicelib.models.users import TokenPublic, TokenRequest, UserItem
from chalicelib.observability import business_event
from chalicelib.security.keys import KeyRing
from chalicelib.security.passwords import PasswordHasher
from chalicelib.services import sessions
from chalicelib.services.lockout import DEFAULT_LOCKOUT, LockoutPolicy
from chalicelib.store.login_attempts import LoginAttemptStore
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore


@dataclass(frozen=True)
class TokenIssuer:
    """What signing a token needs."""

    keyring: KeyRing
    settings: Settings


def _authenticate(table: Table, body: TokenRequest, hasher: PasswordHasher) -> UserItem | None:
    store = UserStore(table)
    user = store.get_by_email(body.email)  # two GetItems whether or not the address is known
    if user is None:
        hasher.verify_dummy(body.password)
        return None
    if not hasher.verify(user.password_hash, body.password):
        return None
    if hasher.needs_rehash(user.password_hash):
        # The policy was raised since this hash was made: upgrade it while we hold the password.
        new_hash = hasher.hash(body.password)
        if store.replace_password_hash(user.id, user.password_hash, new_hash):
            user = user.model_copy(update={"password_hash": new_hash})  # the session checks it
    return user


def login(
    table: Table,
    body: TokenRequest,
    hasher: PasswordHasher,
    issuer: TokenIssuer,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
    now: int | None = None,
) -> TokenPublic:
    """A new session (access and refresh token) for valid credentials;
    InvalidCredentialsError or RateLimitedError."""
    moment = int(time.time()) if now is None else now
    seconds = policy.window_seconds
    attempts = LoginAttemptStore(table)
    reservation = attempts.reserve(body.email, moment, seconds, policy.max_failures)
    if not reservation.granted:
        raise RateLimitedError(retry_after=reservation.window.retry_after(moment))
    try:
        return _sign_in(table, body, hasher, issuer, reservation.number)
    except ServiceUnavailableError:
        # An outage cut the login short: the attempt goes back (best effort), so it does not
        # count against the user and the login leaves the table as it found it.
        attempts.release(body.email, reservation.number)
        raise


def _sign_in(
    table: Table, body: TokenRequest, hasher: PasswordHasher, issuer: TokenIssuer, attempt: int
) -> TokenPublic:
    user = _authenticate(table, body, hasher)
    if user is None:
        business_event("login_failed")
        raise InvalidCredentialsError()
    LoginAttemptStore(table).clear(body.email, attempt)
    # `now` drives the attempt window only; a session always starts at the real time.
    return sessions.start_session(table, user, issuer.keyring, issuer.settings, int(time.time()))
