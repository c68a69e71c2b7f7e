"""docs/api.md's "Sessions" section over real HTTP against `chalice local`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
DENIED = {401, 403}  # chalice local answers an authorizer's denial with 403


def start(live: str, email: str = "ada@example.com") -> dict[str, str]:
    requests.post(f"{live}/users", json={"email": email, "password": PASSWORD, "name": "Ada"}, timeout=10)
    response = requests.post(f"{live}/auth/token", json={"email": email, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return dict(response.json())


def refresh(live: str, token: str) -> requests.Response:
    return requests.post(f"{live}/auth/refresh", json={"refresh_token": token}, timeout=10)


def me(live: str, tokens: dict[str, str]) -> int:
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    return requests.get(f"{live}/users/me", headers=headers, timeout=10).status_code


def test_a_session_rotates_and_a_replayed_token_logs_both_parties_out(live: str) -> None:
    tokens = start(live)
    assert 0 < int(tokens["expires_in"]) <= 900
    renewed = refresh(live, tokens["refresh_token"])
    assert renewed.status_code == 200
    assert set(renewed.json()) == set(tokens)
    assert me(live, renewed.json()) == 200
    replayed = refresh(live, tokens["refresh_token"])
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "unauthorized"
    assert refresh(live, renewed.json()["refresh_token"]).status_code == 401
    assert me(live, renewed.json()) in DENIED


def test_logout_refuses_the_access_token_at_once(live: str) -> None:
    tokens, other = start(live), start(live)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = requests.post(f"{live}/auth/logout", headers=headers, timeout=10)
    assert response.status_code == 204
    assert response.content == b""
    assert me(live, tokens) in DENIED
    assert refresh(live, tokens["refresh_token"]).status_code == 401
    assert me(live, other) == 200
    all_headers = {"Authorization": f"Bearer {other['access_token']}"}
    assert requests.post(f"{live}/auth/logout-all", headers=all_headers, timeout=10).status_code == 204
    assert me(live, other) in DENIED


def test_concurrent_refreshes_of_one_token_exactly_one_wins(live: str) -> None:
    tokens = start(live)
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: refresh(live, tokens["refresh_token"]).status_code, range(4)))
    assert sorted(statuses) == [200, 401, 401, 401]


def test_a_deleted_users_token_can_neither_read_nor_write(live: str) -> None:
    tokens = start(live)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    user_id = requests.get(f"{live}/users/me", headers=headers, timeout=10).json()["id"]
    assert requests.delete(f"{live}/users/{user_id}", headers=headers, timeout=10).status_code == 204
    created = requests.post(
        f"{live}/products", json={"name": "Ghost", "price": 1}, headers=headers, timeout=10
    )
    assert created.status_code in DENIED
    assert requests.get(f"{live}/orders", headers=headers, timeout=10).status_code in DENIED
    assert refresh(live, tokens["refresh_token"]).status_code == 401
