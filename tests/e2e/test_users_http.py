"""docs/api.md's "Users and tokens" rules over real HTTP against `chalice local`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from chalicelib.api import deps
from chalicelib.security.passwords import TEST_POLICY, PasswordHasher
from chalicelib.services.caller import operator
from chalicelib.services.users import create_or_promote_admin

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
DENIED = {401, 403}  # chalice local answers an authorizer's denial with 403


def register(live: str, email: str, name: str = "Someone", password: str = PASSWORD) -> requests.Response:
    return requests.post(
        f"{live}/users", json={"email": email, "password": password, "name": name}, timeout=10
    )


def login(live: str, email: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(f"{live}/auth/token", json={"email": email, "password": password}, timeout=10)


def headers_for(live: str, email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(live, email, password).json()['access_token']}"}


def signed_up(live: str, email: str) -> tuple[dict[str, Any], dict[str, str]]:
    return register(live, email).json(), headers_for(live, email)


def admin(live: str) -> dict[str, str]:
    create_or_promote_admin(
        deps.get_table(), operator(), "admin@example.com", PASSWORD, PasswordHasher(TEST_POLICY)
    )
    return headers_for(live, "admin@example.com")


def test_register_login_and_me(live: str) -> None:
    created = register(live, "Ada@Example.com", " Ada ")
    assert created.status_code == 201
    user = created.json()
    assert created.headers["Location"] == f"/users/{user['id']}"
    assert (user["email"], user["name"], user["role"]) == ("ada@example.com", "Ada", "user")
    token = login(live, "ADA@example.com")
    assert token.status_code == 200
    assert token.json()["token_type"] == "Bearer"
    assert token.json()["expires_in"] > 0
    me = requests.get(f"{live}/users/me", headers=headers_for(live, "ada@example.com"), timeout=10)
    assert me.status_code == 200
    assert me.json() == user
    assert me.headers["Content-Type"] == "application/json"


def test_duplicate_email_in_other_case_is_409(live: str) -> None:
    register(live, "bob@example.com")
    response = register(live, "BOB@Example.COM")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "bad", "password": PASSWORD, "name": "A"},
        {"email": "a@example.com", "password": "1234567", "name": "A"},
        {"email": "a@example.com", "password": PASSWORD, "name": " "},
        {"email": "a@example.com", "password": PASSWORD, "name": "A", "is_admin": True},
    ],
)
def test_invalid_registration_is_400(live: str, body: dict[str, Any]) -> None:
    response = requests.post(f"{live}/users", json=body, timeout=10)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_twenty_concurrent_registrations_yield_one_201_and_nineteen_409(live: str) -> None:
    # One kept-alive connection per client, opened one by one beforehand: chalice local's
    # listen backlog is 5, and 20 simultaneous connects would be reset before reaching the app.
    sessions = [requests.Session() for _ in range(20)]
    for session in sessions:
        assert session.get(f"{live}/health", timeout=10).status_code == 200
    body = {"password": PASSWORD, "name": "Racer"}

    def attempt(i: int) -> int:
        email = "race@example.com" if i % 2 else "RACE@example.com"
        return sessions[i].post(f"{live}/users", json={**body, "email": email}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    for session in sessions:
        session.close()
    assert sorted(statuses) == [201] + [409] * 19


def test_wrong_password_and_unknown_email_look_the_same_then_lock_out(live: str) -> None:
    register(live, "carol@example.com")
    wrong = login(live, "carol@example.com", "not the password")
    unknown = login(live, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert {**wrong.json(), "request_id": ""} == {**unknown.json(), "request_id": ""}
    for _ in range(4):
        assert login(live, "carol@example.com", "not the password").status_code == 401
    locked = login(live, "carol@example.com")
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert int(locked.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer not-a-token",
        "Basic YWRhOnB3",
        "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.",
    ],
)
def test_protected_route_refuses_missing_or_bad_credentials(live: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = requests.get(f"{live}/users/me", headers=headers, timeout=10)
    assert response.status_code in DENIED


def test_a_100_kb_authorization_header_is_refused_not_crashed(live: str) -> None:
    response = requests.get(
        f"{live}/users/me", headers={"Authorization": "Bearer " + "a" * 100 * 1024}, timeout=10
    )
    assert response.status_code in {*DENIED, 400, 431}


def test_listing_is_for_admins(live: str) -> None:
    _, user_headers = signed_up(live, "dave@example.com")
    assert requests.get(f"{live}/users", headers=user_headers, timeout=10).status_code == 403
    page = requests.get(f"{live}/users?limit=1", headers=admin(live), timeout=10)
    assert page.status_code == 200
    assert len(page.json()["items"]) == 1
    assert page.json()["next_cursor"]


def test_self_other_and_unknown_ids(live: str) -> None:
    erin, erin_headers = signed_up(live, "erin@example.com")
    _, frank_headers = signed_up(live, "frank@example.com")
    assert requests.get(f"{live}/users/{erin['id']}", headers=erin_headers, timeout=10).status_code == 200
    assert requests.get(f"{live}/users/{erin['id']}", headers=frank_headers, timeout=10).status_code == 403
    unknown = requests.get(f"{live}/users/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=admin(live), timeout=10)
    assert unknown.status_code == 404


def test_patch_rules(live: str) -> None:
    gina, headers = signed_up(live, "gina@example.com")
    url = f"{live}/users/{gina['id']}"
    assert requests.patch(url, json={"role": "admin"}, headers=headers, timeout=10).status_code == 403
    assert requests.patch(url, json={"colour": "red"}, headers=headers, timeout=10).status_code == 400
    renamed = requests.patch(url, json={"name": "Georgina"}, headers=headers, timeout=10)
    assert renamed.json()["name"] == "Georgina"
    promoted = requests.patch(url, json={"role": "admin"}, headers=admin(live), timeout=10)
    assert promoted.json()["role"] == "admin"


def test_delete_frees_the_email_and_the_old_token_no_longer_finds_its_user(live: str) -> None:
    hank, headers = signed_up(live, "hank@example.com")
    deleted = requests.delete(f"{live}/users/{hank['id']}", headers=headers, timeout=10)
    assert deleted.status_code == 204
    assert deleted.content == b""
    # Its sessions ended with it: the authorizer refuses the token (403 locally, 401 on AWS)
    assert requests.get(f"{live}/users/me", headers=headers, timeout=10).status_code in DENIED
    assert register(live, "hank@example.com").status_code == 201
