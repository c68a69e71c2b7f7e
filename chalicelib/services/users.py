"""User use cases: register, read, list, update, delete, create-or-promote an admin.

Permissions are the caller's business (api/users.py decides them from the token's
claims); these functions do what they are asked on the table they are given.
"""

from __future__ import annotations

from chalicelib.clock import isoformat, new_id, utc_now
from chalicelib.errors import EmailTakenError, UserNotFoundError
from chalicelib.models.common import Page, PageQuery
from chalicelib.models.users import Role, UserCreate, UserItem, UserPublic, UserUpdate, check_email
from chalicelib.observability import business_event
from chalicelib.security.passwords import PasswordHasher
from chalicelib.services import sessions
from chalicelib.store import users as store
from chalicelib.store.pagination import PageRequest
from chalicelib.store.table import Table

# Every id this service issues is a ULID; anything else cannot name a user, and must not
# reach DynamoDB (an over-long key is a ValidationException there, i.e. a 500).


def _load(table: Table, user_id: str) -> UserItem:
    user = store.get(table, user_id)
    if user is None:
        raise UserNotFoundError()
    return user


def register_user(table: Table, body: UserCreate, hasher: PasswordHasher, role: Role = "user") -> UserPublic:
    """Create a user; EmailTakenError if the address (in any letter case) is registered."""
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
    store.create(table, user)
    business_event("user_registered")
    return user.public()


def get_user(table: Table, user_id: str) -> UserPublic:
    """The user with this id; UserNotFoundError if there is none."""
    return _load(table, user_id).public()


def list_users(table: Table, query: PageQuery) -> Page[UserPublic]:
    """One page of users, newest first."""
    users, next_cursor = store.list_page(table, PageRequest(limit=query.limit, cursor=query.cursor))
    return Page[UserPublic](items=[u.public() for u in users], next_cursor=next_cursor)


def update_user(table: Table, user_id: str, body: UserUpdate, hasher: PasswordHasher) -> UserPublic:
    """Apply a (permitted) update in one conditional UpdateItem; UserNotFoundError if absent.
    A new password or a role (set by an admin) ends every session of the user."""
    changes = store.UserChanges(
        name=body.name,
        password_hash=hasher.hash(body.password) if body.password is not None else None,
        role=body.role,
    )
    updated = store.update(table, user_id, changes, isoformat(utc_now())).public()
    if body.password is not None or body.role is not None:
        # After the update, never before: a login racing it either sees the new state or
        # is refused by its check on the user (store/sessions.start).
        sessions.end_all_sessions(table, user_id)
    return updated


def delete_user(table: Table, user_id: str) -> None:
    """Delete the user, free its e-mail address and end its sessions; UserNotFoundError if
    there is none. Once this returns, the user's tokens can neither read nor write."""
    try:
        store.delete(table, _load(table, user_id))
    finally:
        # Also when the user is already gone: a retried DELETE finishes an interrupted one.
        sessions.end_all_sessions(table, user_id)


def create_or_promote_admin(
    table: Table, email: str, password: str, hasher: PasswordHasher, name: str = "Administrator"
) -> tuple[UserPublic, bool]:
    """An admin with this e-mail: (user, True) if created, (user, False) if an existing
    user was promoted. A promoted user keeps the password they chose."""
    address = check_email(email)
    existing = store.get_by_email(table, address)
    if existing is None:
        try:
            body = UserCreate(email=address, password=password, name=name)
            return register_user(table, body, hasher, role="admin"), True
        except EmailTakenError:  # registered a moment ago by someone else: promote that one
            existing = store.get_by_email(table, address)
            if existing is None:
                raise
    changes = store.UserChanges(role="admin")
    promoted = store.update(table, existing.id, changes, isoformat(utc_now())).public()
    sessions.end_all_sessions(table, existing.id)  # a role change ends sessions, as in update_user
    return promoted, False
