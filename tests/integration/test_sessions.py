"""docs/api.md's "Sessions" section through chalice's test client (which runs the
authorizer on every request, as `chalice local` does) and the real engine."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from chalice.test import Client

from app import app
from chalicelib.api import deps
from chalicelib.api.auth import jwt_auth
from chalicelib.config import get_settings
from chalicelib.errors import InvalidRefreshTokenError
from chalicelib.models.sessions import RefreshRequest
from chalicelib.security.keys import get_keyring
from chalicelib.security.refresh import parse_refresh_token
from chalicelib.services import sessions as session_service
from chalicelib.services.caller import Caller
from chalicelib.store import keys
from chalicelib.store.repository import ANY
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore
from tests.helpers import json_body

JSON = {"Content-Type": "application/json"}
PASSWORD = "correct horse battery"
NEW_PASSWORD = "another long password"
DENIED = 403  # the local gateway's answer to an authorizer's Deny (401 on API Gateway)


def post(client: Client, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body) if body is not None else None
    return client.http.post(path, headers={**JSON, **(headers or {})}, body=data)


def register(client: Client, email: str = "ada@example.com") -> dict[str, Any]:
    response = post(client, "/users", {"email": email, "password": PASSWORD, "name": "Someone"})
    assert response.status_code == 201
    return dict(json_body(response))


def login(client: Client, email: str = "ada@example.com", password: str = PASSWORD) -> dict[str, Any]:
    response = post(client, "/auth/token", {"email": email, "password": password})
    assert response.status_code == 200, response.body
    return dict(json_body(response))


def refresh(client: Client, refresh_token: str) -> Any:
    return post(client, "/auth/refresh", {"refresh_token": refresh_token})


def auth(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def me(client: Client, tokens: dict[str, Any]) -> int:
    return int(client.http.get("/users/me", headers=auth(tokens)).status_code)


def claims(tokens: dict[str, Any]) -> dict[str, Any]:
    return dict(jwt.decode(tokens["access_token"], options={"verify_signature": False}))


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.body
    body = json_body(response)
    assert body["code"] == "unauthorized"
    assert set(body) == {"error", "code", "request_id"}


def make_admin(client: Client) -> dict[str, Any]:
    user = register(client, "root@example.com")
    UserStore(deps.get_table()).update_if(user["id"], {"role": "admin"}, ANY, "2026-01-01T00:00:00.000Z")
    return login(client, "root@example.com")


# --- starting a session -----------------------------------------------------------------


def test_login_starts_a_session_with_short_access_and_opaque_refresh_tokens(client: Client) -> None:
    user = register(client)
    response = post(client, "/auth/token", {"email": "ada@example.com", "password": PASSWORD})
    tokens = json_body(response)
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert tokens["token_type"] == "Bearer"
    assert 0 < tokens["expires_in"] <= 900
    assert tokens["refresh_expires_in"] == get_settings().refresh_ttl_seconds
    assert response.headers["Cache-Control"] == "no-store"
    payload = claims(tokens)
    assert payload["sub"] == user["id"]
    assert payload["exp"] - payload["iat"] == tokens["expires_in"]
    # The refresh token names its session; its secret is 256 random bits
    parsed = parse_refresh_token(tokens["refresh_token"])
    assert parsed is not None
    assert (parsed.user_id, parsed.session_id) == (user["id"], payload["sid"])
    assert len(tokens["refresh_token"].rsplit(".", 1)[1]) == 43


def test_only_a_digest_of_the_refresh_token_is_stored(client: Client, table: Table) -> None:
    register(client)
    tokens = login(client)
    secret = tokens["refresh_token"].rsplit(".", 1)[1]
    item = table.get(keys.session_key(claims(tokens)["sub"], claims(tokens)["sid"]))
    assert item is not None
    assert secret not in repr(item)
    assert tokens["refresh_token"] not in repr(item)
    assert int(item["expires_at"]) > time.time()  # the table's TTL attribute


def test_every_login_is_its_own_session(client: Client) -> None:
    register(client)
    first, second = login(client), login(client)
    assert claims(first)["sid"] != claims(second)["sid"]
    assert me(client, first) == me(client, second) == 200


# --- refresh ----------------------------------------------------------------------------


def test_refresh_returns_new_tokens_in_the_same_session(client: Client) -> None:
    register(client)
    tokens = login(client)
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    renewed = json_body(response)
    assert set(renewed) == set(tokens)
    assert claims(renewed)["sid"] == claims(tokens)["sid"]
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert 0 < renewed["refresh_expires_in"] <= tokens["refresh_expires_in"]
    assert me(client, renewed) == 200
    assert refresh(client, renewed["refresh_token"]).status_code == 200


def test_refresh_carries_the_users_current_role(client: Client, table: Table) -> None:
    user = register(client)
    tokens = login(client)
    assert claims(tokens)["role"] == "user"
    # The user item changes under the session (as a promotion does, before it ends sessions)
    UserStore(table).update_if(user["id"], {"role": "admin"}, ANY, "2026-01-01T00:00:00.000Z")
    renewed = json_body(refresh(client, tokens["refresh_token"]))
    assert claims(renewed)["role"] == "admin"
    assert client.http.get("/users", headers=auth(renewed)).status_code == 200


def test_a_spent_refresh_token_presented_again_ends_the_whole_session(client: Client) -> None:
    # Given a thief and the user holding the same refresh token, and the thief refreshes first
    register(client)
    stolen = login(client)
    thief = json_body(refresh(client, stolen["refresh_token"]))
    other_session = login(client)
    # When the user presents the now-spent token
    assert_unauthorized(refresh(client, stolen["refresh_token"]))
    # Then both parties are logged out: the thief's refresh and access tokens die too
    assert_unauthorized(refresh(client, thief["refresh_token"]))
    assert me(client, thief) == DENIED
    assert me(client, stolen) == DENIED
    # ...and only that session: another login of the same user is untouched
    assert me(client, other_session) == 200


def test_a_token_spent_several_rotations_ago_is_still_recognised_as_reuse(client: Client) -> None:
    register(client)
    first = login(client)
    second = json_body(refresh(client, first["refresh_token"]))
    third = json_body(refresh(client, second["refresh_token"]))
    assert_unauthorized(refresh(client, first["refresh_token"]))
    assert_unauthorized(refresh(client, third["refresh_token"]))
    assert me(client, third) == DENIED


def test_concurrent_refreshes_of_one_token_exactly_one_wins(client: Client) -> None:
    register(client)
    tokens = login(client)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: refresh(client, tokens["refresh_token"]).status_code, range(8)))
    # Exactly one wins; the others are refused (401), or limited (429) once 5 attempts on the
    # session are counted in the window
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 401, 429}
    # A loser presented a spent token: per docs/api.md that ends the session (docs/security.md)
    assert me(client, tokens) == DENIED


def test_concurrent_refreshes_through_the_service_exactly_one_wins(table: Table, client: Client) -> None:
    # The same race below HTTP, so nothing serialises it but the conditional write itself
    register(client)
    tokens = login(client)
    body = RefreshRequest(refresh_token=tokens["refresh_token"])
    policy = session_service_policy()

    def attempt(_: int) -> str:
        try:
            session_service.refresh(table, body, get_keyring(), get_settings(), policy)
        except InvalidRefreshTokenError:
            return "refused"
        return "rotated"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert outcomes.count("rotated") == 1
    assert outcomes.count("refused") == 5


def session_service_policy() -> Any:
    from chalicelib.services.lockout import LockoutPolicy

    return LockoutPolicy(max_failures=100)


def test_a_refresh_token_cannot_be_moved_to_another_user_or_session(client: Client) -> None:
    register(client, "ada@example.com")
    register(client, "bob@example.com")
    ada, bob = login(client, "ada@example.com"), login(client, "bob@example.com")
    ada_user, ada_sid, ada_secret = ada["refresh_token"].split(".")
    bob_user, bob_sid, _ = bob["refresh_token"].split(".")
    assert_unauthorized(refresh(client, f"{bob_user}.{ada_sid}.{ada_secret}"))  # another user's id
    assert_unauthorized(refresh(client, f"{ada_user}.{bob_sid}.{ada_secret}"))  # another session
    assert_unauthorized(refresh(client, f"{bob_user}.{bob_sid}.{ada_secret}"))  # Bob's session, Ada's secret
    # Neither legitimate token was harmed by the attempts
    assert refresh(client, ada["refresh_token"]).status_code == 200
    assert refresh(client, bob["refresh_token"]).status_code == 200


def _tampered(token: str) -> str:
    head, secret = token.rsplit(".", 1)
    return f"{head}.{('B' if secret[0] != 'B' else 'C')}{secret[1:]}"


BAD_REFRESH_TOKENS: dict[str, Callable[[str], str]] = {
    "tampered secret": _tampered,
    "truncated by one": lambda t: t[:-1],
    "truncated to the session": lambda t: t.rsplit(".", 1)[0],
    "secret only": lambda t: t.rsplit(".", 1)[1],
    "extra part": lambda t: t + ".x",
    "padded": lambda t: t + "=",
    "trailing newline": lambda t: t + "\n",
    "an access token": lambda t: t,  # replaced below
    "garbage": lambda t: "not-a-refresh-token",
    "empty": lambda t: "",
    "over-long": lambda t: t + "A" * 600,
    "non-ASCII": lambda t: t[:-1] + "é",
    "unknown session": lambda t: t.split(".")[0] + ".01NOSUCHSESSION." + t.rsplit(".", 1)[1],
}


@pytest.mark.parametrize("name", sorted(BAD_REFRESH_TOKENS))
def test_bad_refresh_tokens_are_401_with_the_envelope(client: Client, name: str) -> None:
    register(client)
    tokens = login(client)
    bad = (
        tokens["access_token"]
        if name == "an access token"
        else BAD_REFRESH_TOKENS[name](tokens["refresh_token"])
    )
    assert_unauthorized(refresh(client, bad))
    # A bad token is not a spent one: the session goes on
    assert refresh(client, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"refresh_token": 42}, {"refresh_token": None}, {"refresh_token": "x", "extra": 1}, []]
)
def test_a_malformed_refresh_body_is_400(client: Client, body: Any) -> None:
    response = post(client, "/auth/refresh", body)
    assert response.status_code == 400
    assert json_body(response)["code"] == "validation_error"


def test_an_expired_session_refuses_refresh_and_its_access_tokens(client: Client, table: Table) -> None:
    # Given a session that began longer ago than the refresh lifetime (TTL not yet applied)
    user = register(client)
    long_ago = int(time.time()) - get_settings().refresh_ttl_seconds - 10
    item = UserStore(table).get(user["id"])
    assert item is not None
    old = session_service.start_session(table, item, get_keyring(), get_settings(), long_ago)
    assert_unauthorized(refresh(client, old.refresh_token))
    # And a still-valid access token of that session (signed now) is refused
    from chalicelib.security.tokens import issue_token

    sid = old.refresh_token.split(".")[1]
    fresh, _ = issue_token(user["id"], "user", get_keyring(), get_settings(), session_id=sid)
    assert me(client, {"access_token": fresh}) == DENIED


# --- the end of a session ---------------------------------------------------------------


def test_logout_ends_this_session_only_at_once(client: Client) -> None:
    register(client)
    this, other = login(client), login(client)
    response = post(client, "/auth/logout", headers=auth(this))
    assert response.status_code == 204
    assert response.body == b""
    assert me(client, this) == DENIED  # refused at once, not after the token's expiry
    assert_unauthorized(refresh(client, this["refresh_token"]))
    assert me(client, other) == 200
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_logout_all_ends_every_session_of_the_caller_and_no_one_elses(client: Client) -> None:
    register(client, "ada@example.com")
    register(client, "bob@example.com")
    sessions = [login(client, "ada@example.com") for _ in range(3)]
    bob = login(client, "bob@example.com")
    assert post(client, "/auth/logout-all", headers=auth(sessions[0])).status_code == 204
    for tokens in sessions:
        assert me(client, tokens) == DENIED
        assert_unauthorized(refresh(client, tokens["refresh_token"]))
    assert me(client, bob) == 200
    assert login(client, "ada@example.com")  # a new login starts a new session


def test_logout_needs_a_live_session(client: Client) -> None:
    register(client)
    tokens = login(client)
    assert post(client, "/auth/logout", headers=auth(tokens)).status_code == 204
    assert post(client, "/auth/logout", headers=auth(tokens)).status_code == DENIED
    assert post(client, "/auth/logout-all").status_code == 401  # no Authorization header


def test_a_password_change_ends_every_session_of_the_user(client: Client) -> None:
    user = register(client)
    first, second = login(client), login(client)
    changed = client.http.patch(
        f"/users/{user['id']}", headers={**JSON, **auth(first)}, body=json.dumps({"password": NEW_PASSWORD})
    )
    assert changed.status_code == 200
    for tokens in (first, second):
        assert me(client, tokens) == DENIED
        assert_unauthorized(refresh(client, tokens["refresh_token"]))
    assert me(client, login(client, password=NEW_PASSWORD)) == 200


def test_a_name_change_keeps_the_sessions(client: Client) -> None:
    user = register(client)
    tokens = login(client)
    changed = client.http.patch(
        f"/users/{user['id']}", headers={**JSON, **auth(tokens)}, body=json.dumps({"name": "Ada L."})
    )
    assert changed.status_code == 200
    assert me(client, tokens) == 200


def test_a_demoted_admin_can_no_longer_act_as_admin(client: Client) -> None:
    # Given an admin with a session, and a second admin
    root = make_admin(client)
    boss_user = register(client, "boss@example.com")
    UserStore(deps.get_table()).update_if(boss_user["id"], {"role": "admin"}, ANY, "2026-01-01T00:00:00.000Z")
    boss = login(client, "boss@example.com")
    assert client.http.get("/users", headers=auth(root)).status_code == 200
    # When the second admin demotes the first
    root_id = claims(root)["sub"]
    demoted = client.http.patch(
        f"/users/{root_id}", headers={**JSON, **auth(boss)}, body=json.dumps({"role": "user"})
    )
    assert demoted.status_code == 200
    # Then the old token lists nothing, and its refresh token is dead
    assert client.http.get("/users", headers=auth(root)).status_code == DENIED
    assert_unauthorized(refresh(client, root["refresh_token"]))
    # And a new login carries the new role
    again = login(client, "root@example.com")
    assert claims(again)["role"] == "user"
    assert client.http.get("/users", headers=auth(again)).status_code == 403


def test_a_deleted_users_tokens_can_neither_read_nor_write(client: Client) -> None:
    user = register(client)
    tokens, other = login(client), login(client)
    assert client.http.delete(f"/users/{user['id']}", headers=auth(tokens)).status_code == 204
    for session in (tokens, other):
        assert me(client, session) == DENIED
        assert client.http.get("/orders", headers=auth(session)).status_code == DENIED
        product = post(client, "/products", {"name": "Ghost", "price": 1}, auth(session))
        assert product.status_code == DENIED
        assert_unauthorized(refresh(client, session["refresh_token"]))
    assert json_body(client.http.get(f"/products?owner_id={user['id']}"))["items"] == []


def test_an_admin_role_change_by_manage_ends_the_users_sessions(client: Client, table: Table) -> None:
    from chalicelib.security.passwords import TEST_POLICY, PasswordHasher
    from chalicelib.services.users import create_or_promote_admin

    register(client)
    tokens = login(client)
    operator = Caller(user_id="operator", role="admin")
    hasher = PasswordHasher(TEST_POLICY)
    _, created = create_or_promote_admin(table, operator, "ada@example.com", "ignored-password", hasher)
    assert not created
    assert me(client, tokens) == DENIED
    assert claims(login(client))["role"] == "admin"


# --- throttling -------------------------------------------------------------------------


def test_failed_refreshes_of_a_session_are_throttled_like_logins(client: Client) -> None:
    register(client)
    victim, other = login(client), login(client)
    for _ in range(5):
        assert_unauthorized(refresh(client, _tampered(victim["refresh_token"])))
    # The sixth attempt on that session is refused before any check, even with the right token
    locked = refresh(client, victim["refresh_token"])
    assert locked.status_code == 429
    assert json_body(locked)["code"] == "rate_limited"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    # It is per session: the user's other session refreshes, and logging in still works
    assert refresh(client, other["refresh_token"]).status_code == 200
    assert me(client, login(client)) == 200
    # The access token of the throttled session still works (only refresh is throttled)
    assert me(client, victim) == 200


def test_garbage_refresh_tokens_count_against_no_one(client: Client) -> None:
    register(client)
    tokens = login(client)
    for _ in range(8):
        assert_unauthorized(refresh(client, "garbage"))
    assert refresh(client, tokens["refresh_token"]).status_code == 200


# --- the authorizer as Lambda runs it ---------------------------------------------------


def token_event(token: str) -> dict[str, Any]:
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/users/me",
    }


def effect(result: dict[str, Any]) -> str:
    return str(result["policyDocument"]["Statement"][0]["Effect"])


def test_the_lambda_authorizer_denies_a_token_as_soon_as_its_session_ends(client: Client) -> None:
    # Given the authorizer called as Lambda calls it (a TOKEN event)
    register(client)
    tokens = login(client)
    allowed = jwt_auth(token_event(tokens["access_token"]), {})
    assert effect(allowed) == "Allow"
    assert allowed["context"] == {"role": "user", "session_id": claims(tokens)["sid"]}
    # When the session ends
    assert post(client, "/auth/logout", headers=auth(tokens)).status_code == 204
    # Then the very next decision is a Deny
    denied = jwt_auth(token_event(tokens["access_token"]), {})
    assert effect(denied) == "Deny"
    assert denied["principalId"] == "anonymous"


def test_the_authorizer_is_cached_for_60_seconds_when_deployed() -> None:
    (handler,) = app.builtin_auth_handlers
    assert (handler.handler_string, handler.ttl_seconds) == ("chalicelib.api.auth.jwt_auth", 60)


def test_an_ended_sessions_refresh_is_401_even_once_its_limit_is_reached(client: Client) -> None:
    # Given 5 failed refreshes of a session (its limit), then a logout
    register(client)
    tokens = login(client)
    for _ in range(5):
        assert_unauthorized(refresh(client, _tampered(tokens["refresh_token"])))
    assert post(client, "/auth/logout", headers=auth(tokens)).status_code == 204
    # When the real refresh token is presented
    response = refresh(client, tokens["refresh_token"])
    # Then it is a 401 (log in again), not a 429 that makes the client wait 15 minutes
    assert_unauthorized(response)
    assert "Retry-After" not in response.headers


def test_after_a_concurrent_refresh_burst_every_token_of_the_session_is_401(client: Client) -> None:
    # Given a burst of concurrent refreshes of one token: one wins, the losers present a spent
    # token (the session ends), and the later ones reach the per-session limit
    register(client)
    tokens = login(client)
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: refresh(client, tokens["refresh_token"]), range(10)))
    winner = [json_body(r) for r in responses if r.status_code == 200]
    assert len(winner) == 1
    # When either token is presented after the burst, over the limit
    for token in (tokens["refresh_token"], winner[0]["refresh_token"]):
        # Then the ended session answers 401, never 429
        assert_unauthorized(refresh(client, token))


def test_a_live_session_over_its_limit_is_still_429(client: Client) -> None:
    register(client)
    tokens = login(client)
    for _ in range(5):
        assert_unauthorized(refresh(client, _tampered(tokens["refresh_token"])))
    assert refresh(client, tokens["refresh_token"]).status_code == 429
