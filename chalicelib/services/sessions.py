"""Session use cases: start (at login), refresh (rotate), logout, logout-all, end all.

A session is one item; its refresh token is spent by the rotation that replaces it.
Presenting a spent token again is taken as theft (one of two parties holds a copy) and
ends the session for both. Refreshes are limited per session with the login attempt
counter (an attempt is reserved before the token is checked), so guessing cannot go on,
and only a holder of the session's id can trip it; a spent token ends its session even over
that limit (see docs/security.md).
"""

from __future__ import annotations

import time

from chalicelib.clock import new_id
from chalicelib.config import Settings
from chalicelib.errors import (
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    RateLimitedError,
    ServiceUnavailableError,
)
from chalicelib.models.sessions import RefreshRequest, SessionItem
from chalicelib.models.users import TokenPublic, UserItem
from chalicelib.observability import business_event
from chalicelib.security.keys import KeyRing
from chalicelib.security.refresh import RefreshToken, new_refresh_token, parse_refresh_token
from chalicelib.security.tokens import issue_token
from chalicelib.services.caller import Caller
from chalicelib.services.lockout import LockoutPolicy
from chalicelib.store import keys
from chalicelib.store.login_attempts import LoginAttemptStore
from chalicelib.store.sessions import RotationRefusedError, SessionStore, StaleUserError
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore


def _tokens(
    session: SessionItem, refresh_token: str, keyring: KeyRing, settings: Settings, now: int
) -> TokenPublic:
    access, expires_in = issue_token(
        session.user_id, session.role, keyring, settings, now, session_id=session.session_id
    )
    # An access token never outlives its session.
    return TokenPublic(
        access_token=access,
        expires_in=min(expires_in, session.remaining(now)),
        refresh_token=refresh_token,
        refresh_expires_in=session.remaining(now),
    )


def start_session(
    table: Table, user: UserItem, keyring: KeyRing, settings: Settings, now: int
) -> TokenPublic:
    """A new session for a user whose password was just checked; InvalidCredentialsError
    if the user was deleted or changed meanwhile."""
    session_id = new_id()
    refresh_token, digest = new_refresh_token(user.id, session_id)
    session = SessionItem(
        user_id=user.id,
        session_id=session_id,
        role=user.role,
        current_digest=digest,
        created_at=now,
        expires_at=now + settings.refresh_ttl_seconds,
    )
    try:
        SessionStore(table).start(session, user)
    except StaleUserError as exc:
        raise InvalidCredentialsError() from exc
    business_event("session_started")
    return _tokens(session, refresh_token, keyring, settings, now)


def refresh(
    table: Table,
    body: RefreshRequest,
    keyring: KeyRing,
    settings: Settings,
    policy: LockoutPolicy,
    now: int | None = None,
) -> TokenPublic:
    """Rotate the presented refresh token: new tokens in the same session, or 401/429."""
    moment = int(time.time()) if now is None else now
    presented = parse_refresh_token(body.refresh_token)
    if presented is None:  # not one of ours: no session to count it against, nothing to read
        raise InvalidRefreshTokenError()
    subject = keys.refresh_attempts_subject(presented.user_id, presented.session_id)
    seconds = policy.window_seconds
    attempts = LoginAttemptStore(table)
    reservation = attempts.reserve(subject, moment, seconds, policy.max_failures)
    if not reservation.granted:
        # An ended (or expired) session is a 401 first: a 429 would make its client wait out
        # the window instead of logging in again. Read only once the limit is reached.
        store = SessionStore(table)
        session = store.get_live_session(presented.user_id, presented.session_id, moment)
        if session is None:
            raise InvalidRefreshTokenError()
        # A spent token ends the session whatever the count says: otherwise whoever holds the
        # current token could fill the window with bad ones and so silence reuse detection.
        if presented.digest in session.spent_digests:
            _end_reused(store, presented)
            raise InvalidRefreshTokenError()
        raise RateLimitedError(retry_after=reservation.window.retry_after(moment))
    try:
        result = _rotate(table, presented, keyring, settings, moment)
        attempts.clear(subject, reservation.number)
    except InvalidRefreshTokenError:
        business_event("refresh_failed")
        raise
    except ServiceUnavailableError:
        # An outage cut the refresh short: the attempt goes back (best effort), as for a login.
        attempts.release(subject, reservation.number)
        raise
    return result


def _rotate(
    table: Table, presented: RefreshToken, keyring: KeyRing, settings: Settings, now: int
) -> TokenPublic:
    user = UserStore(table).get(presented.user_id)
    if user is None:
        raise InvalidRefreshTokenError()
    replacement, digest = new_refresh_token(presented.user_id, presented.session_id)
    store = SessionStore(table)
    try:
        session = store.rotate(user.id, presented.session_id, presented.digest, digest, user.role, now)
    except RotationRefusedError as refused:
        if refused.session is not None and presented.digest in refused.session.spent_digests:
            _end_reused(store, presented)
        raise InvalidRefreshTokenError() from refused
    business_event("session_refreshed")
    return _tokens(session, replacement, keyring, settings, now)


def _end_reused(store: SessionStore, presented: RefreshToken) -> None:
    """A spent token came back: whoever holds it, the session is no longer trusted."""
    store.end(presented.user_id, presented.session_id)
    business_event("refresh_reuse_detected")


def logout(table: Table, caller: Caller) -> None:
    """End the caller's own session."""
    if caller.session_id is not None:
        SessionStore(table).end(caller.user_id, caller.session_id)
    business_event("logout")


def logout_all(table: Table, caller: Caller) -> None:
    """End every session of the caller."""
    end_all_sessions(table, caller.user_id)


def end_all_sessions(table: Table, user_id: str) -> int:
    """End every session of a user (deleted, new password, new role); how many ended."""
    ended = SessionStore(table).end_all(user_id)
    business_event("sessions_ended")
    return ended
