"""docs/api.md's "Users and tokens" rules through chalice's test client and the real engine."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from chalice.test import Client

from chalicelib.config import get_settings
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.helpers import bearer, json_body

JSON = {"Content-Type": "application/json"}
PASSWORD = "correct horse battery"


def post(client: Client, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(path, headers={**JSON, **(headers or {})}, body=json.dumps(body))


def register(
    client: Client, email: str = "ada@example.com", name: str = "Ada", password: str = PASSWORD
) -> Any:
    return post(client, "/users", {"email": email, "password": password, "name": name})


def login(client: Client, email: str = "ada@example.com", password: str = PASSWORD) -> Any:
    return post(client, "/auth/token", {"email": email, "password": password})


def auth(client: Client, email: str, password: str = PASSWORD) -> dict[str, str]:
    token = json_body(login(client, email, password))["access_token"]
    return {"Authorization": f"Bearer {token}", **JSON}


def user_with_token(
    client: Client, email: str, name: str = "Someone"
) -> tuple[dict[str, Any], dict[str, str]]:
    user = json_body(register(client, email, name))
    return user, auth(client, email)


def admin_headers(client: Client) -> dict[str, str]:
    user = json_body(register(client, "root@example.com", "Root"))
    return bearer(user["id"], "admin")


# --- registration -----------------------------------------------------------------------


def test_register_returns_201_the_public_user_and_location(client: Client) -> None:
    response = register(client, "Ada@Example.COM", "  Ada Lovelace ")
    assert response.status_code == 201
    user = json_body(response)
    assert set(user) == {"id", "email", "name", "role", "email_verified", "created_at", "updated_at"}
    assert user["email"] == "ada@example.com"
    assert user["name"] == "Ada Lovelace"
    assert user["role"] == "user"
    assert user["email_verified"] is False  # until the mailed token comes back (docs/accounts.md)
    assert user["created_at"] == user["updated_at"]
    assert user["created_at"].endswith("Z")
    assert response.headers["Location"] == f"/users/{user['id']}"


def test_register_stores_a_hash_not_the_password(client: Client, table: Table) -> None:
    user = json_body(register(client))
    item = table.get(keys.user_key(user["id"]))
    assert item is not None
    assert PASSWORD not in json.dumps(item, default=str)
    assert item["password_hash"].startswith("$argon2id$")


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@example.com"])
def test_an_email_registered_in_any_letter_case_is_409(client: Client, email: str) -> None:
    assert register(client, "ada@example.com").status_code == 201
    response = register(client, email)
    assert response.status_code == 409
    assert json_body(response)["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": "p" * 129, "name": "A"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "name": "   "}, "name"),
        ({"email": "a@example.com", "password": PASSWORD, "name": "n" * 101}, "name"),
        ({"email": "a@example.com", "password": PASSWORD}, "name"),
        ({"email": "a@example.com", "password": PASSWORD, "name": "A", "role": "admin"}, "role"),
    ],
)
def test_invalid_registration_is_400_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = post(client, "/users", body)
    assert response.status_code == 400
    payload = json_body(response)
    assert payload["code"] == "validation_error"
    assert ["body", field] in [d["loc"][:2] for d in payload["details"]]
    assert body.get("password", "§") not in response.body.decode()


def test_registration_body_that_is_not_json_is_400_invalid_json(client: Client) -> None:
    response = client.http.post("/users", headers=JSON, body=b"{not json")
    assert response.status_code == 400
    assert json_body(response)["code"] == "invalid_json"


# --- tokens -----------------------------------------------------------------------------


def test_login_returns_a_bearer_token_with_the_contract_claims(client: Client) -> None:
    user = json_body(register(client))
    response = login(client, "ADA@example.com")
    assert response.status_code == 200
    body = json_body(response)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == min(get_settings().token_ttl_seconds, 900)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == user["id"]
    assert claims["role"] == "user"
    assert {"iat", "exp", "iss", "aud", "jti", "sid"} <= set(claims)


def test_unknown_email_and_wrong_password_get_the_same_401_body(client: Client) -> None:
    register(client)
    wrong = login(client, "ada@example.com", "wrong password")
    unknown = login(client, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401

    def strip(response: Any) -> dict[str, Any]:
        return {k: v for k, v in json_body(response).items() if k != "request_id"}

    assert strip(wrong) == strip(unknown) == {"error": "Invalid e-mail or password", "code": "unauthorized"}


def test_login_body_with_unknown_fields_is_400(client: Client) -> None:
    response = post(client, "/auth/token", {"email": "a@example.com", "password": "x", "remember": True})
    assert response.status_code == 400


def test_sixth_attempt_after_five_failures_is_429_with_retry_after(client: Client) -> None:
    register(client)
    for _ in range(5):
        assert login(client, "ada@example.com", "wrong password").status_code == 401
    locked = login(client, "ada@example.com", PASSWORD)
    assert locked.status_code == 429
    assert json_body(locked)["code"] == "rate_limited"
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60


def test_unregistered_email_is_locked_out_too(client: Client) -> None:
    for _ in range(5):
        assert login(client, "ghost@example.com", "whatever1").status_code == 401
    assert login(client, "GHOST@example.com", "whatever1").status_code == 429


def test_a_success_clears_the_failure_count(client: Client) -> None:
    register(client)
    for _ in range(4):
        login(client, "ada@example.com", "wrong password")
    assert login(client).status_code == 200
    for _ in range(4):
        assert login(client, "ada@example.com", "wrong password").status_code == 401
    assert login(client).status_code == 200


def test_lockout_is_per_email(client: Client) -> None:
    register(client)
    register(client, "bob@example.com", "Bob")
    for _ in range(5):
        login(client, "ada@example.com", "wrong password")
    assert login(client, "bob@example.com").status_code == 200


# --- /users/me and the authorizer through the gateway ------------------------------------


def test_me_returns_the_caller(client: Client) -> None:
    user, headers = user_with_token(client, "ada@example.com", "Ada")
    response = client.http.get("/users/me", headers=headers)
    assert response.status_code == 200
    assert json_body(response) == user


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer nonsense", "Token abc", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
)
def test_me_without_valid_credentials_is_refused_before_the_route(
    client: Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.http.get("/users/me", headers=headers)
    assert response.status_code in {401, 403}  # the local gateway answers a denial with 403


def test_me_after_the_account_was_deleted_is_refused(client: Client) -> None:
    user, headers = user_with_token(client, "ada@example.com")
    assert client.http.delete(f"/users/{user['id']}", headers=headers).status_code == 204
    response = client.http.get("/users/me", headers=headers)
    assert response.status_code == 403  # its sessions ended: the local gateway's denial (401 on AWS)


def test_me_of_a_live_session_whose_user_item_is_gone_is_401(client: Client, table: Table) -> None:
    # The window between a user's deletion and the end of its sessions: the route says 401
    user, headers = user_with_token(client, "ada@example.com")
    table.delete(keys.user_key(user["id"]))
    response = client.http.get("/users/me", headers=headers)
    assert response.status_code == 401
    assert json_body(response)["code"] == "unauthorized"


# --- listing ----------------------------------------------------------------------------


def test_admin_lists_users_newest_first_across_pages(client: Client) -> None:
    admin = admin_headers(client)
    for i in range(4):
        register(client, f"u{i}@example.com", f"U{i}")
    first = json_body(client.http.get("/users?limit=3", headers=admin))
    assert len(first["items"]) == 3
    assert first["next_cursor"]
    second = json_body(client.http.get(f"/users?limit=3&cursor={first['next_cursor']}", headers=admin))
    assert second["next_cursor"] is None
    emails = [u["email"] for u in first["items"] + second["items"]]
    assert emails == [
        "u3@example.com",
        "u2@example.com",
        "u1@example.com",
        "u0@example.com",
        "root@example.com",
    ]
    assert all("password_hash" not in u for u in first["items"])


def test_non_admin_listing_users_is_403(client: Client) -> None:
    _, headers = user_with_token(client, "ada@example.com")
    response = client.http.get("/users", headers=headers)
    assert response.status_code == 403
    assert json_body(response)["code"] == "forbidden"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=forged.cursor", "colour=red"])
def test_bad_listing_query_is_400(client: Client, query: str) -> None:
    response = client.http.get(f"/users?{query}", headers=admin_headers(client))
    assert response.status_code == 400
    assert json_body(response)["code"] in {"validation_error", "invalid_cursor"}


# --- one user ---------------------------------------------------------------------------


def test_self_and_admin_can_read_a_user_others_cannot(client: Client) -> None:
    ada, ada_headers = user_with_token(client, "ada@example.com")
    _, bob_headers = user_with_token(client, "bob@example.com")
    assert json_body(client.http.get(f"/users/{ada['id']}", headers=ada_headers)) == ada
    assert client.http.get(f"/users/{ada['id']}", headers=admin_headers(client)).status_code == 200
    other = client.http.get(f"/users/{ada['id']}", headers=bob_headers)
    assert other.status_code == 403
    assert json_body(other)["code"] == "forbidden"


@pytest.mark.parametrize("user_id", ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "does-not-exist"])
def test_unknown_id_as_admin_is_404(client: Client, user_id: str) -> None:
    response = client.http.get(f"/users/{user_id}", headers=admin_headers(client))
    assert response.status_code == 404
    assert json_body(response)["code"] == "not_found"


@pytest.mark.parametrize("user_id", ["x" * 3000, "a.b", "%C3%A9"])
def test_malformed_id_is_400_before_any_lookup(client: Client, user_id: str) -> None:
    response = client.http.get(f"/users/{user_id}", headers=admin_headers(client))
    assert response.status_code == 400
    assert json_body(response)["details"][0]["loc"] == ["path", "user_id"]


def test_user_can_change_own_name_and_password(client: Client) -> None:
    ada, headers = user_with_token(client, "ada@example.com")
    body = {"name": " Augusta ", "password": "a brand new secret"}
    response = client.http.patch(f"/users/{ada['id']}", headers=headers, body=json.dumps(body))
    assert response.status_code == 200
    updated = json_body(response)
    assert updated["name"] == "Augusta"
    assert updated["updated_at"] >= ada["updated_at"]
    assert login(client).status_code == 401
    assert login(client, password="a brand new secret").status_code == 200


@pytest.mark.parametrize("body", ["{}", '{"name": null}', '{"password": null}'])
def test_empty_or_null_patch_is_400_and_changes_nothing(client: Client, body: str) -> None:
    ada, headers = user_with_token(client, "ada@example.com")
    response = client.http.patch(f"/users/{ada['id']}", headers=headers, body=body)
    assert response.status_code == 400
    assert json_body(response)["code"] == "validation_error"
    assert json_body(client.http.get("/users/me", headers=headers)) == ada


def test_non_admin_sending_role_is_403_and_nothing_changes(client: Client) -> None:
    ada, headers = user_with_token(client, "ada@example.com")
    body = json.dumps({"role": "admin", "name": "Sneaky"})
    response = client.http.patch(f"/users/{ada['id']}", headers=headers, body=body)
    assert response.status_code == 403
    assert json_body(client.http.get("/users/me", headers=headers))["name"] == ada["name"]


def test_admin_can_change_a_role_and_the_next_token_carries_it(client: Client) -> None:
    ada, _ = user_with_token(client, "ada@example.com")
    body = json.dumps({"role": "admin"})
    response = client.http.patch(f"/users/{ada['id']}", headers=admin_headers(client), body=body)
    assert json_body(response)["role"] == "admin"
    token = json_body(login(client))["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["role"] == "admin"


def test_patching_another_user_is_403(client: Client) -> None:
    ada, _ = user_with_token(client, "ada@example.com")
    _, bob_headers = user_with_token(client, "bob@example.com")
    response = client.http.patch(f"/users/{ada['id']}", headers=bob_headers, body='{"name": "Hijacked"}')
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    ['{"email": "new@example.com"}', '{"nickname": "x"}', '{"password": "short"}', '{"role": "root"}', "[]"],
)
def test_invalid_patch_is_400(client: Client, body: str) -> None:
    ada, _ = user_with_token(client, "ada@example.com")
    response = client.http.patch(f"/users/{ada['id']}", headers=admin_headers(client), body=body)
    assert response.status_code == 400
    assert json_body(response)["code"] == "validation_error"


def test_patching_an_unknown_user_as_admin_is_404(client: Client) -> None:
    response = client.http.patch(
        "/users/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=admin_headers(client), body='{"name": "Ghost"}'
    )
    assert response.status_code == 404
    assert json_body(response)["code"] == "not_found"


def test_delete_self_is_204_and_frees_the_email(client: Client, table: Table) -> None:
    ada, headers = user_with_token(client, "ada@example.com")
    response = client.http.delete(f"/users/{ada['id']}", headers=headers)
    assert response.status_code == 204
    assert response.body in (b"", "")
    assert table.get(keys.email_claim_key("ada@example.com")) is None
    assert client.http.get(f"/users/{ada['id']}", headers=admin_headers(client)).status_code == 404
    again = register(client, "ADA@example.com")
    assert again.status_code == 201
    assert json_body(again)["id"] != ada["id"]


def test_admin_deletes_anyone_other_users_cannot(client: Client) -> None:
    ada, _ = user_with_token(client, "ada@example.com")
    _, bob_headers = user_with_token(client, "bob@example.com")
    assert client.http.delete(f"/users/{ada['id']}", headers=bob_headers).status_code == 403
    admin = admin_headers(client)
    assert client.http.delete(f"/users/{ada['id']}", headers=admin).status_code == 204
    assert client.http.delete(f"/users/{ada['id']}", headers=admin).status_code == 404
