"""The authorizer's one read (store/live_sessions.py): the same answer as the stored model
for every session the service writes, None for an ended or expired one, and a refusal (the
authorizer denies) for an item that is not a well-formed session."""

from __future__ import annotations

import io
import time
from decimal import Decimal
from typing import Any

import pytest
from chalice.app import AuthRequest
from chalice.test import Client

from chalicelib.api.auth import authorize
from chalicelib.config import get_settings
from chalicelib.models.roles import Role
from chalicelib.security.keys import get_keyring
from chalicelib.security.tokens import issue_token
from chalicelib.services import sessions as session_service
from chalicelib.store import keys
from chalicelib.store.live_sessions import read_live
from chalicelib.store.sessions import SessionStore
from chalicelib.store.table import Table
from tests.helpers import ensure_user

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/users/me"


def _started(table: Table, user_id: str, role: Role = "user") -> tuple[str, int]:
    user = ensure_user(user_id, role=role, table=table)
    now = int(time.time())
    tokens = session_service.start_session(table, user, get_keyring(), get_settings(), now)
    return tokens.refresh_token.split(".")[1], now


@pytest.mark.parametrize("role", ["user", "admin"])
def test_a_live_session_reads_as_its_stored_model_says(table: Table, role: Role) -> None:
    session_id, now = _started(table, f"live-{role}", role)
    stored = SessionStore(table).parse(table.get(keys.session_key(f"live-{role}", session_id)))
    assert stored is not None
    live = read_live(table, f"live-{role}", session_id, now)
    assert live is not None
    assert (live.user_id, live.session_id, live.role, live.expires_at) == (
        stored.user_id,
        stored.session_id,
        stored.role,
        stored.expires_at,
    )
    assert type(live.expires_at) is int
    assert SessionStore(table).get_live(f"live-{role}", session_id, now) == live


def test_an_expired_an_ended_and_a_foreign_item_are_not_live(table: Table) -> None:
    session_id, now = _started(table, "ending")
    live = read_live(table, "ending", session_id, now)
    assert live is not None
    # expired: DynamoDB's TTL has not deleted it yet, the read says it is over
    assert read_live(table, "ending", session_id, live.expires_at) is None
    assert read_live(table, "ending", session_id, live.expires_at - 1) is not None
    # ended: the item is gone
    SessionStore(table).end_all("ending")
    assert read_live(table, "ending", session_id, now) is None
    # an item of another type under a session's key is no session
    table.put({**keys.session_key("ending", "other"), "type": "user", "user_id": "ending"})
    assert read_live(table, "ending", "other", now) is None


def _well_formed(session_id: str) -> dict[str, Any]:
    return {
        **keys.session_key("odd", session_id),
        "type": "session",
        "user_id": "odd",
        "session_id": session_id,
        "role": "user",
        "current_digest": "d",
        "created_at": 1,
        "expires_at": int(time.time()) + 600,
    }


@pytest.mark.parametrize(
    ("session_id", "change"),
    [
        ("role", {"role": "root"}),
        ("fraction", {"expires_at": Decimal("1.5")}),
        ("text", {"expires_at": "later"}),
        ("number", {"user_id": 7}),
        ("nodigest", {"current_digest": None}),
        ("nocreated", {"created_at": None}),
    ],
)
def test_a_malformed_session_item_is_refused_and_the_authorizer_denies(
    client: Client, table: Table, session_id: str, change: dict[str, Any], log_stream: io.StringIO
) -> None:
    ensure_user("odd", table=table)
    item = {k: v for k, v in {**_well_formed(session_id), **change}.items() if v is not None}
    table.put(item)
    with pytest.raises(ValueError, match="session item"):
        read_live(table, "odd", session_id, int(time.time()))
    token, _ = issue_token("odd", "user", get_keyring(), get_settings(), session_id=session_id)
    decision = authorize(AuthRequest("TOKEN", f"Bearer {token}", ARN))
    assert isinstance(decision, dict)
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    # Through a route: refused (chalice's test client answers a Deny 403; the gateway and
    # chalice local answer the documented 401), and the decision logged as a deny
    response = client.http.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert '"outcome":"deny"' in log_stream.getvalue()


def test_a_well_formed_item_written_by_hand_is_live(table: Table) -> None:
    table.put(_well_formed("by-hand"))
    live = read_live(table, "odd", "by-hand", int(time.time()))
    assert live is not None
    assert live.role == "user"
