"""The authorizer's one read: a session while it is live, read without pydantic.

Every protected request is decided by the authorizer's function, and its cold start is paid
by the first request of each new container. This module is all it reads the table with
(through services/access.py), so that function imports no model: a session's identity, role
and expiry are taken straight from the item and checked as strictly as the stored model
(models/sessions.SessionItem) checks them. `SessionStore.get_live` is this same read: there
is one way to ask whether a session is live.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from chalicelib.models.roles import ROLES, Role
from chalicelib.store import keys
from chalicelib.store.table import Table

ITEM_TYPE = "session"
# The text and number attributes SessionItem requires (spent_digests is optional).
_TEXT = ("user_id", "session_id", "role", "current_digest")
_WHOLE_NUMBERS = ("created_at", "expires_at")


@dataclass(frozen=True)
class LiveSession:
    """A live session, as much of it as deciding a request needs."""

    user_id: str
    session_id: str
    role: Role
    expires_at: int  # epoch seconds


def read_live(table: Table, user_id: str, session_id: str, now: int) -> LiveSession | None:
    """The session while it is live; None once it has ended (deleted) or expired. One strongly
    consistent GetItem: a logout is visible to the very next request. Expiry is checked here
    because DynamoDB's TTL deletes items only eventually. ValueError for an item that is not
    a well-formed session (the authorizer then denies, and logs it)."""
    raw = table.get(keys.session_key(user_id, session_id))
    if not raw or raw.get("type") != ITEM_TYPE:
        return None
    session = _parse(raw)
    return session if session.expires_at > now else None


def _parse(raw: dict[str, Any]) -> LiveSession:
    for name in _TEXT:
        if type(raw.get(name)) is not str:
            raise ValueError(f"session item: {name} is not text")
    if raw["role"] not in ROLES:
        raise ValueError("session item: unknown role")
    numbers = {name: _whole(raw.get(name), name) for name in _WHOLE_NUMBERS}
    return LiveSession(
        user_id=raw["user_id"],
        session_id=raw["session_id"],
        role=cast(Role, raw["role"]),
        expires_at=numbers["expires_at"],
    )


def _whole(value: Any, name: str) -> int:
    if type(value) is int:
        return value
    if type(value) is Decimal and value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise ValueError(f"session item: {name} is not a whole number")
