"""The login-attempt limit holds under concurrency, and a known and
an unknown e-mail address cost the same work (the same DynamoDB calls, the same Argon2
parameters). Password checks are counted by a hasher passed in, not by patching."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.config import get_settings
from chalicelib.errors import InvalidCredentialsError
from chalicelib.models.users import TokenRequest, UserCreate
from chalicelib.security.keys import get_keyring
from chalicelib.security.passwords import TEST_POLICY, PasswordHasher
from chalicelib.services import auth as auth_service
from chalicelib.services import users as user_service
from chalicelib.services.lockout import LockoutPolicy
from chalicelib.store.table import Table

PASSWORD = "correct horse battery"
ATTEMPTS = 20


def _parameters(argon2_hash: str) -> str:
    """`m=…,t=…,p=…` (and the variant and version) of an encoded Argon2 hash."""
    return "$".join(argon2_hash.split("$")[:4])


class CountingHasher(PasswordHasher):
    """A real hasher that counts (thread-safely) every password it checks, and with which
    Argon2 parameters (the stored hash's, or the dummy's)."""

    def __init__(self) -> None:
        super().__init__(TEST_POLICY)
        self._lock = threading.Lock()
        self.checked: list[str] = []

    def verify(self, stored_hash: str, password: str) -> bool:
        # verify_dummy() verifies against the dummy hash through this method too.
        kind = "dummy" if stored_hash == self._dummy else "user"
        with self._lock:
            self.checked.append(f"{kind} {_parameters(stored_hash)}")
        return super().verify(stored_hash, password)


@pytest.fixture
def hasher(table: Table) -> Iterator[CountingHasher]:
    counting = CountingHasher()
    deps.use_hasher(counting)
    yield counting
    deps.use_hasher(None)


def _login(client: Client, password: str) -> int:
    body = json.dumps({"email": "ada@example.com", "password": password})
    response = client.http.post("/auth/token", body=body, headers={"Content-Type": "application/json"})
    return int(response.status_code)


def _burst(client: Client, passwords: list[str]) -> list[int]:
    start = threading.Barrier(len(passwords))

    def attempt(password: str) -> int:
        start.wait()
        return _login(client, password)

    with ThreadPoolExecutor(max_workers=len(passwords)) as pool:
        return list(pool.map(attempt, passwords))


def _register(table: Table, hasher: CountingHasher) -> None:
    user_service.register_user(
        table, UserCreate(email="ada@example.com", password=PASSWORD, name="Ada"), hasher
    )


def test_twenty_concurrent_wrong_passwords_check_at_most_five_the_rest_429(
    client: Client, table: Table, hasher: CountingHasher
) -> None:
    _register(table, hasher)
    statuses = _burst(client, ["wrong password"] * ATTEMPTS)
    assert len(hasher.checked) == 5
    assert sorted(statuses) == [401] * 5 + [429] * (ATTEMPTS - 5)


def test_nineteen_wrong_and_one_right_concurrently_check_at_most_five_wrong_passwords(
    client: Client, table: Table, hasher: CountingHasher
) -> None:
    _register(table, hasher)
    passwords = ["wrong password"] * (ATTEMPTS - 1)
    passwords.insert(ATTEMPTS // 2, PASSWORD)
    statuses = _burst(client, passwords)
    # A success clears the window only if no attempt was reserved after it (api: one
    # conditional delete). So at most 5 wrong passwords are ever checked; if the right one
    # had finished before any other arrived, that burst would be a new window (5 + 1).
    wrong = statuses.count(401)
    assert wrong <= 5
    assert len(hasher.checked) <= 6
    assert len(hasher.checked) == wrong + statuses.count(200)
    assert statuses.count(429) == ATTEMPTS - len(hasher.checked)
    assert statuses.count(200) <= 1


def _record_operations(table: Table) -> list[str]:
    operations: list[str] = []

    def record(model: Any, **_: Any) -> None:
        operations.append(model.name)

    table.client.meta.events.register("before-call.dynamodb", record)
    return operations


def test_unknown_and_known_emails_make_the_same_calls_and_verify_with_the_same_parameters(
    table: Table,
) -> None:
    hasher = CountingHasher()
    _register(table, hasher)
    issuer = auth_service.TokenIssuer(keyring=get_keyring(), settings=get_settings())
    roomy = LockoutPolicy(max_failures=1000)  # 100 tries each, no lockout
    operations = _record_operations(table)
    sequences: dict[str, list[str]] = {}
    for email in ("ada@example.com", "nobody@example.com"):
        operations.clear()
        for _ in range(100):
            with pytest.raises(InvalidCredentialsError):
                auth_service.login(
                    table, TokenRequest(email=email, password="wrong password"), hasher, issuer, roomy
                )
        sequences[email] = list(operations)
    known, unknown = sequences["ada@example.com"], sequences["nobody@example.com"]
    assert known == unknown
    assert known[:3] == ["UpdateItem", "GetItem", "GetItem"]
    assert len(known) == 300
    # Argon2 ran once per try with the same parameters on both paths (user's hash, dummy's).
    parameters = "$argon2id$v=19$m=64,t=1,p=1"  # the test stage's policy
    assert hasher.checked == [f"user {parameters}"] * 100 + [f"dummy {parameters}"] * 100
