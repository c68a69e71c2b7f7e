"""Use cases and repository against the real engine: uniqueness race, transactions,
re-hashing, the lockout window, create-or-promote and the create-admin command."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.config import get_settings
from chalicelib.errors import EmailTakenError, InvalidCredentialsError, RateLimitedError, UserNotFoundError
from chalicelib.models.common import PageQuery
from chalicelib.models.users import TokenRequest, UserCreate
from chalicelib.retry import Retry
from chalicelib.security.keys import get_keyring
from chalicelib.security.passwords import TEST_POLICY, PasswordHasher, PasswordPolicy
from chalicelib.security.tokens import verify_token
from chalicelib.services import auth as auth_service
from chalicelib.services import users as user_service
from chalicelib.services.caller import Caller, operator
from chalicelib.store import keys
from chalicelib.store.login_attempts import LoginAttemptStore
from chalicelib.store.repository import ANY
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore
from manage import main as manage_main
from tests.helpers import as_caller

HASHER = PasswordHasher(TEST_POLICY)
ADMIN = Caller(user_id="admin-1", role="admin")
PASSWORD = "correct horse battery"


def new_user(email: str = "ada@example.com") -> UserCreate:
    return UserCreate(email=email, password=PASSWORD, name="Ada")


def issuer() -> auth_service.TokenIssuer:
    return auth_service.TokenIssuer(keyring=get_keyring(), settings=get_settings())


def test_twenty_concurrent_registrations_of_one_address_yield_exactly_one_user(table: Table) -> None:
    def attempt(i: int) -> str:
        body = new_user("Race@Example.com" if i % 2 else "race@example.com")
        try:
            user_service.register_user(table, body, HASHER)
        except EmailTakenError:
            return "conflict"
        return "created"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert outcomes.count("created") == 1
    assert outcomes.count("conflict") == 19
    page = json.loads(user_service.list_users(table, ADMIN, lambda: PageQuery(limit=100)).json())
    assert [u["email"] for u in page["items"]] == ["race@example.com"]


def test_delete_removes_user_and_claim_in_one_go(table: Table) -> None:
    admin = as_caller(ADMIN, table=table)  # an admin-only write checks that its caller is one
    user = user_service.register_user(table, new_user(), HASHER)
    user_service.delete_user(table, admin, user.id)
    assert table.get(keys.user_key(user.id)) is None
    assert table.get(keys.email_claim_key("ada@example.com")) is None
    with pytest.raises(UserNotFoundError):
        user_service.delete_user(table, admin, user.id)


def test_a_stale_delete_does_not_free_an_address_someone_else_now_holds(table: Table) -> None:
    first = user_service.register_user(table, new_user(), HASHER)
    users = UserStore(table)
    user_service.delete_user(table, as_caller(ADMIN, table=table), first.id)
    second = user_service.register_user(table, new_user(), HASHER)
    assert users.delete_if(first.id, ANY).refused
    assert users.get_by_email("ada@example.com") == users.get(second.id)


def test_update_of_a_vanished_user_is_not_found_and_creates_nothing(table: Table) -> None:
    written = UserStore(table).update_if(
        "01ARZ3NDEKTSV4RRFFQ69G5FAV", {"name": "x"}, ANY, "2026-01-01T00:00:00.000Z"
    )
    assert written.refused
    assert table.get(keys.user_key("01ARZ3NDEKTSV4RRFFQ69G5FAV")) is None


def test_login_with_an_outdated_hash_rehashes_it_under_the_current_policy(table: Table) -> None:
    weak = PasswordHasher(PasswordPolicy(time_cost=1, memory_cost_kib=32, parallelism=1))
    user = user_service.register_user(table, new_user(), weak)
    before = UserStore(table).get(user.id)
    assert before is not None
    assert "m=32," in before.password_hash
    auth_service.login(table, TokenRequest(email="ada@example.com", password=PASSWORD), HASHER, issuer())
    after = UserStore(table).get(user.id)
    assert after is not None
    assert after.password_hash != before.password_hash
    assert not HASHER.needs_rehash(after.password_hash)
    assert HASHER.verify(after.password_hash, PASSWORD)


def test_a_current_hash_is_left_alone_on_login(table: Table) -> None:
    user = user_service.register_user(table, new_user(), HASHER)
    before = UserStore(table).get(user.id)
    auth_service.login(table, TokenRequest(email="ada@example.com", password=PASSWORD), HASHER, issuer())
    assert UserStore(table).get(user.id) == before


def test_rehash_loses_to_a_concurrent_password_change(table: Table) -> None:
    user = user_service.register_user(table, new_user(), HASHER)
    assert not UserStore(table).replace_password_hash(user.id, "$argon2id$stale", HASHER.hash("other"))
    current = UserStore(table).get(user.id)
    assert current is not None
    assert HASHER.verify(current.password_hash, PASSWORD)


def test_issued_token_verifies_with_the_users_id_and_role(table: Table) -> None:
    user = user_service.register_user(table, new_user(), HASHER, role="admin")
    body = auth_service.login(
        table, TokenRequest(email="ada@example.com", password=PASSWORD), HASHER, issuer()
    )
    claims = verify_token(body.access_token, get_keyring(), get_settings())
    assert (claims.user_id, claims.role) == (user.id, "admin")


def test_lockout_window_closes_after_15_minutes(table: Table) -> None:
    user_service.register_user(table, new_user(), HASHER)
    wrong = TokenRequest(email="ada@example.com", password="wrong password")
    right = TokenRequest(email="ada@example.com", password=PASSWORD)
    start = 1_800_000_000
    for second in range(5):
        with pytest.raises(InvalidCredentialsError):
            auth_service.login(table, wrong, HASHER, issuer(), now=start + second)
    with pytest.raises(RateLimitedError) as locked:
        auth_service.login(table, right, HASHER, issuer(), now=start + 60)
    assert locked.value.retry_after == 900 - 60
    assert auth_service.login(table, right, HASHER, issuer(), now=start + 901).access_token


NO_WAIT = Retry(sleep=lambda _: None)


def test_attempts_in_an_expired_window_start_a_new_count(table: Table) -> None:
    start = 1_800_000_000
    for _ in range(4):
        assert LoginAttemptStore(table).reserve("x@example.com", start, 900, 5, NO_WAIT).granted
    fresh = LoginAttemptStore(table).reserve("x@example.com", start + 900, 900, 5, NO_WAIT)
    assert (fresh.granted, fresh.number, fresh.window.start) == (True, 1, start + 900)
    item = table.get(keys.login_attempts_key("x@example.com"))
    assert item is not None
    assert int(item["expires_at"]) == start + 1800  # the TTL attribute DynamoDB expires it by


def test_concurrent_reservations_grant_exactly_the_limit(table: Table) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(
            pool.map(
                lambda _: LoginAttemptStore(table).reserve("y@example.com", 1_800_000_000, 900, 5, NO_WAIT),
                range(8),
            )
        )
    assert sorted(o.number for o in outcomes if o.granted) == [1, 2, 3, 4, 5]
    assert [o.granted for o in outcomes].count(False) == 3


def test_a_success_clears_the_window_only_if_no_later_attempt_was_reserved(table: Table) -> None:
    first = LoginAttemptStore(table).reserve("z@example.com", 1_800_000_000, 900, 5, NO_WAIT)
    LoginAttemptStore(table).reserve("z@example.com", 1_800_000_000, 900, 5, NO_WAIT)
    assert not LoginAttemptStore(table).clear("z@example.com", first.number)  # #2 is in flight
    assert LoginAttemptStore(table).clear("z@example.com", 2)
    assert table.get(keys.login_attempts_key("z@example.com")) is None


def test_create_or_promote_creates_an_admin_then_promotes_an_existing_user(table: Table) -> None:
    admin, created = user_service.create_or_promote_admin(
        table, operator(), "Boss@Example.com", PASSWORD, HASHER
    )
    assert (admin.email, admin.role, created) == ("boss@example.com", "admin", True)
    user = user_service.register_user(table, new_user("carol@example.com"), HASHER)
    promoted, created = user_service.create_or_promote_admin(
        table, operator(), "carol@example.com", "ignored pass", HASHER
    )
    assert (promoted.id, promoted.role, created) == (user.id, "admin", False)
    stored = UserStore(table).get(user.id)
    assert stored is not None
    assert HASHER.verify(stored.password_hash, PASSWORD)  # promotion keeps the user's password


def test_manage_create_admin_creates_then_promotes(table: Table, capsys: pytest.CaptureFixture[str]) -> None:
    assert manage_main(["create-admin", "--email", "ops@example.com", "--password", PASSWORD], table) == 0
    assert "created" in capsys.readouterr().out
    assert manage_main(["create-admin", "--email", "OPS@example.com", "--password", PASSWORD], table) == 0
    out = capsys.readouterr().out
    assert "promoted" in out
    assert PASSWORD not in out
    user = UserStore(table).get_by_email("ops@example.com")
    assert user is not None
    assert user.role == "admin"


@pytest.mark.parametrize(("email", "password"), [("not-an-email", PASSWORD), ("ops@example.com", "short")])
def test_manage_create_admin_refuses_bad_input_without_echoing_it(
    table: Table, capsys: pytest.CaptureFixture[str], email: str, password: str
) -> None:
    assert manage_main(["create-admin", "--email", email, "--password", password], table) == 2
    captured = capsys.readouterr()
    assert password not in captured.out + captured.err
