"""Key rotation end to end through the gateway: the previous key still verifies, a retired one does not."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from app import app
from chalicelib.api import deps
from chalicelib.store.table import Table

KEY_A = "rotation-key-a-" + "a" * 40
KEY_B = "rotation-key-b-" + "b" * 40
KEY_C = "rotation-key-c-" + "c" * 40
JSON = {"Content-Type": "application/json"}


def use_keys(monkeypatch: pytest.MonkeyPatch, current: str, previous: str = "") -> None:
    monkeypatch.setenv("JWT_SECRET", current)
    monkeypatch.setenv("JWT_PREVIOUS_SECRETS", previous)
    deps.reset()  # a new container would read the new configuration


def token(client: Client) -> str:
    body = json.dumps({"email": "ada@example.com", "password": "correct horse battery"})
    return str(json.loads(client.http.post("/auth/token", headers=JSON, body=body).body)["access_token"])


def me(client: Client, access_token: str) -> int:
    return int(client.http.get("/users/me", headers={"Authorization": f"Bearer {access_token}"}).status_code)


def test_rotation_keeps_sessions_until_the_key_is_retired(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_keys(monkeypatch, KEY_A)
    with Client(app, stage_name="test") as client:
        body = json.dumps({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"})
        assert client.http.post("/users", headers=JSON, body=body).status_code == 201
        signed_by_a = token(client)
        assert me(client, signed_by_a) == 200

        use_keys(monkeypatch, KEY_B, KEY_A)  # rotate: B signs, A still verifies
        signed_by_b = token(client)
        assert me(client, signed_by_a) == 200
        assert me(client, signed_by_b) == 200

        use_keys(monkeypatch, KEY_C, KEY_B)  # rotate again: A is retired
        assert me(client, signed_by_a) == 403  # the local gateway's denial (401 on AWS)
        assert me(client, signed_by_b) == 200
    deps.reset()
