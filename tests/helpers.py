"""Small helpers shared by the test layers (not fixtures: plain functions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chalicelib.api import deps
from chalicelib.clock import isoformat, utc_now
from chalicelib.config import get_settings
from chalicelib.models.users import Role, UserItem
from chalicelib.security.keys import get_keyring
from chalicelib.services import sessions
from chalicelib.services.caller import Caller
from chalicelib.store.repository import ANY
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore


def ensure_user(user_id: str, role: Role = "user", table: Table | None = None) -> UserItem:
    """The user with this id, made (or given this role) in the current table if need be.

    Tokens are only honoured for live sessions of existing users, so a test that wants a
    token for "seller" gets a real user "seller" behind it.
    """
    table = table or deps.get_table()
    store = UserStore(table)
    user = store.get(user_id)
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
        store.put_new(made)  # False: made a moment ago by a concurrent call
        user = store.get(user_id)
    assert user is not None
    if user.role != role:
        user = store.update_if(user_id, {"role": role}, ANY, isoformat(utc_now())).item
        assert user is not None
    return user


def as_caller(who: str | Caller, role: Role = "user", table: Table | None = None) -> Caller:
    """A Caller for service-level tests whose user exists (made if need be); no session."""
    if isinstance(who, Caller):
        ensure_user(who.user_id, who.role, table)
        return who
    ensure_user(who, role, table)
    return Caller(user_id=who, role=role)


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


ROOT = Path(__file__).resolve().parents[1]


def run_python(source: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run `source` in a fresh interpreter at the project's root (X-Ray off, the project on
    its path, the test's environment otherwise); its standard output. Fails on an error."""
    done = subprocess.run(
        [sys.executable, "-c", source, *args],
        cwd=ROOT,
        env={**os.environ, "AWS_XRAY_SDK_ENABLED": "false", "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
