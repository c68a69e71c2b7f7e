"""User use cases: register, read, list, update, delete, create-or-promote an admin.

Every use case that acts for someone takes a `Caller` and decides here whether it may:
self or admin for reading, changing and deleting a user; admin for listing users and
for changing a role. A write that relies on the caller being an admin (a role, another
user's account) carries a check that the caller's user item still has role = admin and its
session is live (store/users.CallerCheck): an authorizer's cached Allow outlives a demotion
by up to 60 s, the check does not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from chalicelib.clock import isoformat, new_id, utc_now
from chalicelib.errors import EmailTakenError, ForbiddenError, SessionEndedError, UserNotFoundError
from chalicelib.models.common import PageQuery, Role
from chalicelib.models.users import UserCreate, UserItem, UserPublic, UserUpdate, check_email
from chalicelib.observability import business_event
from chalicelib.security.passwords import PasswordHasher
from chalicelib.services import idempotent, sessions
from chalicelib.services.caller import Caller
from chalicelib.services.idempotent import Seal
from chalicelib.store.pagination import PageRequest
from chalicelib.store.repository import ANY
from chalicelib.store.sessions import SessionStore
from chalicelib.store.table import Action, Table
from chalicelib.store.users import CallerCheck, CallerRefusedError, UserStore
from chalicelib.store.views import Document, JsonPage

U = TypeVar("U")  # what was read of a user: its item, or its public view
T = TypeVar("T")


def _load(table: Table, caller: Caller, user_id: str) -> UserItem:
    """The user, if the caller may act on it (_may_act_on)."""
    return _may_act_on(caller, user_id, UserStore(table).get(user_id))


def _may_act_on(caller: Caller, user_id: str, found: U | None) -> U:
    """What was found of user `user_id`, if the caller may act on it: unknown → 404, then
    someone else's → 403 (the one check order, docs/architecture.md)."""
    if found is None:
        raise UserNotFoundError()
    if not caller.owns(user_id):
        raise ForbiddenError()
    return found


def _require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise ForbiddenError()


def register_user(
    table: Table,
    body: UserCreate,
    hasher: PasswordHasher,
    role: Role = "user",
    seal: Seal | None = None,
    also: Callable[[UserItem], Sequence[Action]] = lambda _: (),
) -> UserPublic:
    """Create a user (anyone may register); EmailTakenError if the address (in any case) is taken.

    `seal` adds an Idempotency-Key's record to the same transaction; `also` adds items made
    from the new user (e.g. the first verification token).
    """
    now = utc_now()
    user = UserItem(
        id=new_id(now),
        email=body.email,
        name=body.name,
        role=role,
        password_hash=hasher.hash(body.password),
        created_at=now,
        updated_at=now,
    )
    sealed = seal(user.public()) if seal is not None else ()
    if not UserStore(table).put_new(user, [*also(user), *sealed]):
        raise EmailTakenError()
    business_event("user_registered")
    return user.public()


def register_user_once(
    table: Table,
    body: UserCreate,
    hasher: PasswordHasher,
    key: str | None,
    also: Callable[[UserItem], Sequence[Action]] = lambda _: (),
) -> idempotent.Created[UserPublic]:
    """register_user, at most once per Idempotency-Key (registration is public: the keys share
    one anonymous scope). The password is no part of the fingerprint: it is never stored, not
    even as a fast digest, so a retry with the same key, e-mail and name is "the same body".
    A replay writes nothing, so `also` is not called for it."""
    request = idempotent.keyed(idempotent.ANONYMOUS, key, body, exclude=frozenset({"password"}))
    return idempotent.create_once(
        table, request, UserPublic, lambda seal: register_user(table, body, hasher, seal=seal, also=also)
    )


def get_user(table: Table, caller: Caller, user_id: str) -> Document:
    """The user with this id (UserPublic as JSON; self or admin); UserNotFoundError if there
    is none, then ForbiddenError if it is someone else (the one check order)."""
    return _may_act_on(caller, user_id, UserStore(table).get_public(user_id))


def get_me(table: Table, caller: Caller) -> Document:
    """The caller's own user; UserNotFoundError if it was deleted since the token was issued."""
    return get_user(table, caller, caller.user_id)


def list_users(table: Table, caller: Caller, read_query: Callable[[], PageQuery]) -> JsonPage:
    """One page of users (Page[UserPublic] as JSON), newest first (admin): a bad query is 400
    before a non-admin's 403."""
    query = read_query()
    _require_admin(caller)
    return UserStore(table).public_page(PageRequest(limit=query.limit, cursor=query.cursor))


def update_user(
    table: Table, caller: Caller, user_id: str, read_body: Callable[[], UserUpdate], hasher: PasswordHasher
) -> UserPublic:
    """Change name or password (self or admin), or a role (admin).

    The one check order (docs/architecture.md): the body (400), the user (404), the
    caller's right to it (403), then the write. A caller's own name: one conditional
    UpdateItem. Anything that relies on the caller being an admin (a role, another user)
    is one transaction with the caller's checks (`_check`): a caller no longer admin gets
    ForbiddenError, one whose session ended (or whose user is gone) SessionEndedError. A new
    password or role also ends the user's sessions, in the same transaction.
    """
    body = read_body()
    admin_only = body.role is not None or user_id != caller.user_id
    if admin_only and not caller.is_admin:
        _load(table, caller, user_id)  # an unknown user is 404 before 403
        raise ForbiddenError("Only an admin may change a role")
    changes = {
        "name": body.name,
        "password_hash": hasher.hash(body.password) if body.password is not None else None,
        "role": body.role,
    }
    given = {k: v for k, v in changes.items() if v is not None}
    if body.password is not None or body.role is not None:
        return _apply_ending_sessions(table, user_id, given, _check(caller, admin=admin_only))
    if not admin_only:
        return _apply(table, user_id, given)
    return _apply_checked(table, user_id, given, _check(caller, admin=True))


def _check(caller: Caller, admin: bool) -> CallerCheck:
    """The caller's checks a write carries: its user exists (with role = admin if `admin`),
    and its session, if any, is live now."""
    return CallerCheck(caller.user_id, caller.session_id, int(time.time()), admin=admin)


def _checked(table: Table, check: CallerCheck, write: Callable[[], T]) -> T:
    """Run a write that carries `check`; a failed check is explained from the caller's user:
    still there (so no longer an admin) → ForbiddenError; gone, or the session ended →
    SessionEndedError (401, as for product creation and orders)."""
    try:
        return write()
    except CallerRefusedError as refused:
        if refused.on_user and UserStore(table).get(check.user_id) is not None:
            raise ForbiddenError() from refused
        raise SessionEndedError() from refused


def _refused(store: UserStore, user_id: str) -> Exception:
    """Why a write on the user was refused although the caller's checks held: the user is gone
    (404), or it is the caller itself and no longer an admin (403)."""
    return UserNotFoundError() if store.get(user_id) is None else ForbiddenError()


def _apply(table: Table, user_id: str, changes: dict[str, str]) -> UserPublic:
    written = UserStore(table).update_if(user_id, changes, ANY, isoformat(utc_now()))
    if written.item is None:
        raise UserNotFoundError()
    return written.item.public()


def _apply_checked(table: Table, user_id: str, changes: dict[str, str], check: CallerCheck) -> UserPublic:
    """The changes and the caller's checks in one transaction, then the user as it is now
    (a transaction returns no attributes)."""
    store = UserStore(table)
    now = isoformat(utc_now())
    if not _checked(
        table, check, lambda: store.update_and_delete(user_id, changes, ANY, now, (), check=check)
    ):
        raise _refused(store, user_id)
    user = store.get(user_id)
    if user is None:  # deleted a moment later
        raise UserNotFoundError()
    return user.public()


def _apply_ending_sessions(
    table: Table, user_id: str, changes: dict[str, str], check: CallerCheck | None = None
) -> UserPublic:
    """A new password or role and the end of every session of the user, in one transaction
    (with the caller's `check`, if any).

    Then a sweep (one Query, nothing to delete as a rule) ends a session that a login racing
    this change wrote between the listing and the transaction (a login after it is refused
    by its check on the user), and any beyond one transaction's capacity.
    """
    store = UserStore(table)
    ending = SessionStore(table).keys_of(user_id)
    now = isoformat(utc_now())

    def write() -> bool:
        return store.update_and_delete(user_id, changes, ANY, now, ending, check=check)

    if not (write() if check is None else _checked(table, check, write)):
        raise _refused(store, user_id)
    sessions.end_all_sessions(table, user_id)
    user = store.get(user_id)
    if user is None:  # deleted a moment later
        raise UserNotFoundError()
    return user.public()


def delete_user(table: Table, caller: Caller, user_id: str) -> None:
    """Delete the user, free its e-mail address and end its sessions (self or admin);
    UserNotFoundError if absent. Once this returns, the user's tokens can neither read nor write.

    One transaction with the caller's checks: another user's account only while the caller
    is still an admin (else ForbiddenError), and only while the caller's session is live
    (else SessionEndedError)."""
    if not caller.owns(user_id):
        _load(table, caller, user_id)  # 404 for an unknown user, else 403
    check = _check(caller, admin=user_id != caller.user_id)
    ending = SessionStore(table).keys_of(user_id)
    refused = _checked(
        table, check, lambda: UserStore(table).delete_if(user_id, ANY, ending, check=check)
    ).refused
    # The sweep, as in _apply_ending_sessions; also when the user is already gone, so that a
    # retried DELETE finishes one whose sweep failed.
    sessions.end_all_sessions(table, user_id)
    if refused:
        raise UserNotFoundError()


def create_or_promote_admin(
    table: Table,
    caller: Caller,
    email: str,
    password: str,
    hasher: PasswordHasher,
    name: str = "Administrator",
) -> tuple[UserPublic, bool]:
    """An admin with this e-mail (admin callers only, e.g. the operator): (user, True) if
    created, (user, False) if an existing user was promoted. A promoted user keeps the
    password they chose."""
    _require_admin(caller)
    address = check_email(email)
    store = UserStore(table)
    existing = store.get_by_email(address)
    if existing is None:
        try:
            body = UserCreate(email=address, password=password, name=name)
            return register_user(table, body, hasher, role="admin"), True
        except EmailTakenError:  # registered a moment ago by someone else: promote that one
            existing = store.get_by_email(address)
            if existing is None:
                raise
    return _apply_ending_sessions(table, existing.id, {"role": "admin"}), False
