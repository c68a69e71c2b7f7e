"""Admin-only user writes hold only while the caller is still an admin with a live session.

Deployed, API Gateway caches the authorizer's Allow (role=admin in its context) for 60 s, so
a request can reach a service with the context of an admin who was demoted (or deleted, or
logged out) meanwhile. Here that context is built as the cache would hand it over: a
`Caller(user_id, "admin", session_id)` taken before the demotion. A role change, a change to
another user's account and the deletion of another user carry ConditionChecks on the caller's
user item (role = admin) and session (live) in their one write (store/users.CallerCheck): a
caller no longer admin gets ForbiddenError (403), one whose session ended or whose user is
gone SessionEndedError (401), and nothing changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.api.errors import status_for
from chalicelib.config import get_settings
from chalicelib.errors import ForbiddenError, SessionEndedError
from chalicelib.models.common import Role
from chalicelib.models.users import UserUpdate
from chalicelib.security.keys import get_keyring
from chalicelib.security.passwords import TEST_POLICY, PasswordHasher
from chalicelib.security.refresh import parse_refresh_token
from chalicelib.services import sessions
from chalicelib.services import users as user_service
from chalicelib.services.caller import Caller
from chalicelib.store import keys
from chalicelib.store.sessions import SessionStore
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore
from tests.faults import Faults
from tests.helpers import ensure_user

HASHER = PasswordHasher(TEST_POLICY)
NEW_PASSWORD = "another-pass-123"


def signed_in(table: Table, user_id: str, role: Role = "user") -> Caller:
    """The user (made if need be) with a new live session: the Caller the authorizer vouches for."""
    user = ensure_user(user_id, role, table)
    tokens = sessions.start_session(table, user, get_keyring(), get_settings(), int(time.time()))
    refresh = parse_refresh_token(tokens.refresh_token)
    assert refresh is not None
    return Caller(user_id, role, refresh.session_id)


def patch(table: Table, caller: Caller, user_id: str, **fields: Any) -> Any:
    return user_service.update_user(table, caller, user_id, lambda: UserUpdate(**fields), HASHER)


def snapshot(table: Table, user_id: str) -> tuple[Any, ...]:
    """Everything a write on the user could change: its item, its e-mail claim, its sessions."""
    user = table.get(keys.user_key(user_id))
    claim = table.get(keys.email_claim_key(f"{user_id}@tokens.test"))
    return user, claim, SessionStore(table).keys_of(user_id)


@pytest.fixture
def stale(table: Table) -> Caller:
    """Mallory's admin context from before a current admin demoted her (her sessions ended)."""
    mallory = signed_in(table, "mallory", "admin")
    patch(table, signed_in(table, "boss", "admin"), "mallory", role="user")
    stored = UserStore(table).get("mallory")
    assert stored is not None
    assert stored.role == "user"
    assert SessionStore(table).get_live("mallory", str(mallory.session_id), int(time.time())) is None
    return mallory


@pytest.fixture
def victim(table: Table) -> str:
    """An ordinary user, signed in."""
    return signed_in(table, "sockpuppet").user_id


# What a stale admin context asks for: each relies on the caller being an admin.
ADMIN_WRITES: dict[str, Callable[[Table, Caller, str], object]] = {
    "promote another user": lambda t, c, u: patch(t, c, u, role="admin"),
    "rename another user": lambda t, c, u: patch(t, c, u, name="Owned"),
    "set another user's password": lambda t, c, u: patch(t, c, u, password=NEW_PASSWORD),
    "delete another user": lambda t, c, u: user_service.delete_user(t, c, u),
}


@pytest.mark.parametrize("write", list(ADMIN_WRITES))
@pytest.mark.parametrize("with_session", [True, False], ids=["with-session", "session-less"])
def test_a_demoted_admins_writes_on_another_user_are_forbidden_and_change_nothing(
    table: Table, stale: Caller, victim: str, write: str, with_session: bool
) -> None:
    # Session-less: the check on the caller's user item (role = admin) refuses it by itself.
    caller = stale if with_session else Caller(stale.user_id, "admin")
    before = snapshot(table, victim)
    with pytest.raises(ForbiddenError) as refused:
        ADMIN_WRITES[write](table, caller, victim)
    assert status_for(refused.value) == (403, "forbidden")
    assert snapshot(table, victim) == before


def test_a_demoted_admin_cannot_promote_herself_back(table: Table, stale: Caller) -> None:
    # Her own user item is the write's target: the role check is that update's condition.
    before = snapshot(table, stale.user_id)
    for caller in (stale, Caller(stale.user_id, "admin")):
        with pytest.raises(ForbiddenError):
            patch(table, caller, stale.user_id, role="admin")
    assert snapshot(table, stale.user_id) == before


@pytest.mark.parametrize("write", list(ADMIN_WRITES))
def test_a_deleted_admins_writes_are_refused_as_an_ended_session(
    table: Table, victim: str, write: str
) -> None:
    gone = signed_in(table, "ghost", "admin")
    user_service.delete_user(table, signed_in(table, "boss", "admin"), "ghost")
    before = snapshot(table, victim)
    with pytest.raises(SessionEndedError) as refused:
        ADMIN_WRITES[write](table, gone, victim)
    assert status_for(refused.value) == (401, "unauthorized")
    assert snapshot(table, victim) == before


@pytest.mark.parametrize("write", list(ADMIN_WRITES))
def test_an_admin_whose_session_ended_is_refused(table: Table, victim: str, write: str) -> None:
    admin = signed_in(table, "boss", "admin")
    sessions.logout(table, admin)  # still an admin; this session is over
    before = snapshot(table, victim)
    with pytest.raises(SessionEndedError):
        ADMIN_WRITES[write](table, admin, victim)
    assert snapshot(table, victim) == before


# A user's own writes that already end sessions carry the session check at no cost.
SELF_WRITES: dict[str, Callable[[Table, Caller], object]] = {
    "set own password": lambda t, c: patch(t, c, c.user_id, password=NEW_PASSWORD),
    "delete self": lambda t, c: user_service.delete_user(t, c, c.user_id),
}


@pytest.mark.parametrize("write", list(SELF_WRITES))
def test_a_users_own_password_change_or_deletion_needs_a_live_session(table: Table, write: str) -> None:
    ada = signed_in(table, "ada")
    other_session = signed_in(table, "ada")
    sessions.logout(table, ada)
    before = snapshot(table, "ada")
    with pytest.raises(SessionEndedError):
        SELF_WRITES[write](table, ada)
    assert snapshot(table, "ada") == before
    assert other_session.session_id is not None
    assert [k["sk"] for k in before[2]] == [f"SESSION#{other_session.session_id}"]


# --- what keeps working ----------------------------------------------------------------------


def test_a_current_admin_changes_roles_and_other_users_and_deletes_them(table: Table, victim: str) -> None:
    admin = signed_in(table, "boss", "admin")
    assert patch(table, admin, victim, name="Renamed").name == "Renamed"
    assert SessionStore(table).keys_of(victim)  # a new name ends no session
    assert patch(table, admin, victim, role="admin").role == "admin"
    assert SessionStore(table).keys_of(victim) == []  # a new role ends them all
    patch(table, admin, victim, password=NEW_PASSWORD)
    stored = UserStore(table).get(victim)
    assert stored is not None
    assert HASHER.verify(stored.password_hash, NEW_PASSWORD)
    user_service.delete_user(table, admin, victim)
    assert snapshot(table, victim) == (None, None, [])
    # The admin's own session was checked, not touched.
    assert admin.session_id is not None
    assert SessionStore(table).get_live("boss", admin.session_id, int(time.time())) is not None


def test_a_session_less_admin_caller_still_can(table: Table, victim: str) -> None:
    # An admin acting outside any session (a service-level caller): the user check alone.
    ensure_user("boss", "admin", table)
    admin = Caller("boss", "admin")
    assert patch(table, admin, victim, role="admin").role == "admin"
    user_service.delete_user(table, admin, victim)
    assert UserStore(table).get(victim) is None


def test_a_user_edits_and_deletes_themselves(table: Table) -> None:
    ada = signed_in(table, "ada")
    assert patch(table, ada, "ada", name="Ada L.").name == "Ada L."
    patch(table, ada, "ada", password=NEW_PASSWORD)
    stored = UserStore(table).get("ada")
    assert stored is not None
    assert HASHER.verify(stored.password_hash, NEW_PASSWORD)
    assert SessionStore(table).keys_of("ada") == []  # the new password ended every session, this one too
    ada = signed_in(table, "ada")
    user_service.delete_user(table, ada, "ada")
    assert snapshot(table, "ada") == (None, None, [])


def test_a_user_still_may_not_change_a_role_or_touch_another_user(table: Table, victim: str) -> None:
    eve = signed_in(table, "eve")
    with pytest.raises(ForbiddenError):
        patch(table, eve, "eve", role="admin")
    with pytest.raises(ForbiddenError):
        patch(table, eve, victim, name="x")
    with pytest.raises(ForbiddenError):
        user_service.delete_user(table, eve, victim)


# --- the calls, and a full transaction ---------------------------------------------------------


Transaction = list[dict[str, Any]]


@contextmanager
def recorded(table: Table) -> Iterator[tuple[list[str], list[list[str]], list[Transaction]]]:
    """The DynamoDB operations made in the block, each transaction's action kinds, and the
    transactions themselves."""
    sent: list[Transaction] = []
    kinds: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(params["TransactItems"])
        kinds.append([next(iter(action)) for action in params["TransactItems"]])

    event = "provide-client-params.dynamodb.TransactWriteItems"
    table.client.meta.events.register(event, record)
    try:
        with Faults(table.client).armed() as calls:
            yield calls.calls, kinds, sent
    finally:
        table.client.meta.events.unregister(event, record)


def conditioned_deletes(transaction: Transaction) -> list[str]:
    """The sort keys of the Deletes in a transaction that carry a condition."""
    deletes = [action["Delete"] for action in transaction if "Delete" in action]
    return [d["Key"]["sk"]["S"] for d in deletes if "ConditionExpression" in d]


def test_the_checks_ride_in_the_one_write_each_route_makes(table: Table, victim: str) -> None:
    admin, ada = signed_in(table, "boss", "admin"), signed_in(table, "ada")
    with recorded(table) as (calls, kinds, _):
        patch(table, admin, victim, name="Renamed")
    assert calls == ["TransactWriteItems", "GetItem"]  # before: GetItem, UpdateItem
    assert kinds == [["Update", "ConditionCheck", "ConditionCheck"]]
    with recorded(table) as (calls, kinds, _):
        patch(table, admin, victim, role="admin")
    # before: GetItem, Query, TransactWriteItems (Update + Delete per session), Query, GetItem
    assert calls == ["Query", "TransactWriteItems", "Query", "GetItem"]
    assert kinds == [["Update", "Delete", "ConditionCheck", "ConditionCheck"]]
    with recorded(table) as (calls, kinds, _):
        user_service.delete_user(table, admin, victim)
    assert calls == ["Query", "GetItem", "TransactWriteItems", "Query"]  # as before
    assert kinds == [["Delete", "Delete", "Put", "ConditionCheck", "ConditionCheck"]]
    with recorded(table) as (calls, kinds, _):
        patch(table, ada, "ada", name="Ada L.")
    assert (calls, kinds) == (["UpdateItem"], [])  # before: GetItem, UpdateItem
    with recorded(table) as (calls, kinds, sent):
        patch(table, ada, "ada", password=NEW_PASSWORD)
    # Her own session is among those ending: its Delete is conditioned on its being live.
    assert calls == ["Query", "TransactWriteItems", "Query", "GetItem"]
    assert kinds == [["Update", "Delete"]]
    assert conditioned_deletes(sent[0]) == [f"SESSION#{ada.session_id}"]


def test_a_user_with_more_sessions_than_a_transaction_holds(table: Table) -> None:
    # The sessions that do not fit in the one transaction are left to the sweep; the checks
    # and the caller's own session (listed last here) always fit.
    admin = signed_in(table, "boss", "admin")
    for _ in range(100):
        signed_in(table, "busy")
    with recorded(table) as (_, kinds, _):
        user_service.delete_user(table, admin, "busy")
    assert len(kinds[0]) == 100  # 3 of the deletion + 95 sessions + 2 checks
    assert kinds[0][-2:] == ["ConditionCheck", "ConditionCheck"]
    assert kinds[1:] == [["Delete"] * 5]  # the sweep
    assert snapshot(table, "busy") == (None, None, [])

    for _ in range(101):
        signed_in(table, "busy")
    listed = SessionStore(table).keys_of("busy")
    last = Caller("busy", "user", listed[-1]["sk"].removeprefix("SESSION#"))
    with recorded(table) as (_, kinds, sent):
        patch(table, last, "busy", password=NEW_PASSWORD)
    assert len(kinds[0]) == 100  # the update + 99 sessions, its own among them
    assert conditioned_deletes(sent[0]) == [listed[-1]["sk"]]  # deleted only while live
    assert kinds[1:] == [["Delete"] * 2]  # the sweep
    assert SessionStore(table).keys_of("busy") == []
