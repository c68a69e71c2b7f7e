"""Small helpers shared by the test layers (not fixtures: plain functions)."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from chalicelib.api import deps
from chalicelib.clock import isoformat, utc_now
from chalicelib.config import get_settings
from chalicelib.errors import EmailTakenError
from chalicelib.models.users import Role, UserItem
from chalicelib.security.keys import get_keyring
from chalicelib.services import sessions
from chalicelib.services.caller import Caller
from chalicelib.store import users as user_store
from chalicelib.store.table import Table


def ensure_user(user_id: str, role: Role = "user", table: Table | None = None) -> UserItem:
    """The user with this id, made (or given this role) in the current table if need be.

    Tokens are only honoured for live sessions of existing users, so a test that wants a
    token for "seller" gets a real user "seller" behind it.
    """
    table = table or deps.get_table()
    user = user_store.get(table, user_id)
    if user is None:
        now = utc_now()
        made = UserItem(
            id=user_id,
            email=f"{user_id.lower()}@tokens.test",
            name=user_id,
            role=role,
            password_hash="no-password-for-token-helper-users",
            created_at=now,
            updated_at=now,
        )
        with contextlib.suppress(EmailTakenError):  # made a moment ago by a concurrent call
            user_store.create(table, made)
        user = user_store.get(table, user_id)
    assert user is not None
    if user.role != role:
        user = user_store.update(table, user_id, user_store.UserChanges(role=role), isoformat(utc_now()))
    return user


def as_caller(user_id: str, role: Role = "user", table: Table | None = None) -> Caller:
    """A Caller for service-level tests (the user exists; no session)."""
    ensure_user(user_id, role, table)
    return Caller(user_id=user_id, role=role)


def token_for(user_id: str, role: Role = "user", table: Table | None = None) -> str:
    """A valid access token of a new session of `user_id` (made if need be) in the table
    (by default the current one)."""
    table = table or deps.get_table()
    user = ensure_user(user_id, role, table)
    tokens = sessions.start_session(table, user, get_keyring(), get_settings(), int(time.time()))
    return tokens.access_token


def bearer(user_id: str, role: Role = "user") -> dict[str, str]:
    """Headers for an authenticated JSON request."""
    return {"Authorization": f"Bearer {token_for(user_id, role)}", "Content-Type": "application/json"}


def json_body(response: Any) -> Any:
    """The JSON body of a chalice test-client response."""
    return json.loads(response.body)
