"""User repository: the user item and its e-mail claim, kept in step by transactions.

Uniqueness of e-mail addresses is DynamoDB's job, not ours: the user item and an
`EMAIL#<address>` claim item are written in one TransactWriteItems, each with
`attribute_not_exists(pk)`, so of any number of racing registrations exactly one wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.clock import isoformat, utc_now
from chalicelib.models.events import Deleted, new_event
from chalicelib.models.users import UserItem, UserPublic
from chalicelib.store import keys
from chalicelib.store.expr import Condition, Update, eq, exists, not_exists
from chalicelib.store.outbox import announce
from chalicelib.store.pagination import Listing, PageRequest
from chalicelib.store.repository import Guard, Repository, Written
from chalicelib.store.schema import GSI1
from chalicelib.store.sessions import session_live
from chalicelib.store.table import (
    CONDITION_FAILED,
    Action,
    ConditionFailedError,
    Key,
    condition_check_action,
    delete_action,
    put_action,
    update_action,
)
from chalicelib.store.views import JsonPage, View

SCOPE = "users"
# Looked up when an e-mail address has no claim, so that a login does the same reads
# whether or not the address is registered (no ULID this service issues is all zeros).
ABSENT_USER_ID = "0" * 26


# TransactWriteItems takes at most 100 actions: sessions that do not fit are left to the sweep.
_TRANSACTION_LIMIT = 100


@dataclass(frozen=True)
class CallerCheck:
    """What must still hold of the caller when a write on a user commits (services/users.py
    decides it; the write carries it): the caller's user item exists — with role = admin if
    `admin` — and, for a caller with a session, that session is live at `now` (epoch seconds).

    The admin check is what makes an authorizer's cached Allow (role=admin, up to 60 s old)
    unable to change roles or other users' accounts once its holder was demoted or deleted.
    """

    user_id: str
    session_id: str | None
    now: int
    admin: bool = False

    def on_user(self) -> Condition:
        """The condition on the caller's user item."""
        return exists() & eq("role", "admin") if self.admin else exists()

    def on_session(self) -> Condition:
        """The condition on the caller's session item (store/sessions.session_live)."""
        return session_live(self.now)


class CallerRefusedError(Exception):
    """A user write was refused by its CallerCheck: `on_user`, the caller's user item (gone,
    or no longer an admin); otherwise the caller's session (ended or expired)."""

    def __init__(self, on_user: bool) -> None:
        super().__init__("caller check failed on its " + ("user" if on_user else "session"))
        self.on_user = on_user


# What each action of a checked transaction stands for, to tell which condition refused it.
_TARGET, _CALLER_USER, _CALLER_SESSION, _OTHER = "target", "caller user", "caller session", "other"
_Part = tuple[str, Action]


def _checked(
    parts: list[_Part], target_id: str, ending: Sequence[Key], check: CallerCheck | None
) -> list[_Part]:
    """`parts`, the deletion of the sessions `ending` names, then the caller's checks, within
    one transaction's limit (sessions that do not fit are left to the sweep). A transaction may
    act on an item only once, so a check on an item the write touches anyway is that action's
    condition: the caller's own session, when it is among those ending, is deleted only while
    live (and first, so that it always fits); the target's, when it is the caller (`_on_target`)."""
    checks: list[_Part] = []
    deletes: list[_Part] = []
    rest = list(ending)
    if check is not None:
        if check.user_id != target_id:
            checks.append(
                (_CALLER_USER, condition_check_action(keys.user_key(check.user_id), check.on_user()))
            )
        if check.session_id is not None:
            own = keys.session_key(check.user_id, check.session_id)
            if own in rest:
                rest.remove(own)
                deletes.append((_CALLER_SESSION, delete_action(own, check.on_session())))
            else:
                checks.append((_CALLER_SESSION, condition_check_action(own, check.on_session())))
    room = _TRANSACTION_LIMIT - len(parts) - len(checks) - len(deletes)
    deletes.extend((_OTHER, delete_action(key)) for key in rest[: max(room, 0)])
    return [*parts, *deletes, *checks]


def _on_target(condition: Condition, target_id: str, check: CallerCheck | None) -> Condition:
    """The target's condition, and the caller's check on its user item when the target is the caller."""
    if check is None or check.user_id != target_id:
        return condition
    return condition & check.on_user()


def subject(user_id: str) -> str:
    """The CloudEvents subject of a user."""
    return f"users/{user_id}"


def registered(user: UserItem) -> Action:
    """The `user.registered` event's transaction item."""
    return announce(new_event("user.registered", subject(user.id), user.public(), "1", user.created_at))


class UserStore(Repository[UserItem]):
    """Users: `USER#<id>` items, and one `EMAIL#<address>` claim per user."""

    item_type = "user"
    model = UserItem
    view = View(UserPublic, UserItem)
    owner_attribute = "id"  # a user owns itself

    def key(self, item_id: str) -> Key:
        """USER#<id> / PROFILE."""
        return keys.user_key(item_id)

    def index_keys(self, item: UserItem) -> Key:
        """In the USERS collection, newest first."""
        return keys.user_index_keys(item.id, isoformat(item.created_at))

    def put_new(self, item: UserItem, guards: Sequence[Action] = ()) -> bool:
        """Write a new user and claim its e-mail; False if the address is claimed."""
        claim = {**keys.email_claim_key(item.email), "type": "email_claim", "user_id": item.id}
        actions = [self.put_action(item), put_action(claim, not_exists()), *guards, registered(item)]
        return self.table.try_write(lambda: self.table.transact_write(actions))

    def get_by_email(self, email: str) -> UserItem | None:
        """The user that holds this (normalised) e-mail address, or None.

        Two GetItems either way: an address without a claim reads a user that cannot exist.
        """
        claim = self.table.get(keys.email_claim_key(email))
        return self.get(str(claim["user_id"]) if claim else ABSENT_USER_ID)

    def public_page(self, page: PageRequest) -> JsonPage:
        """One page of all users, newest first."""
        return self._public_list(Listing(GSI1, keys.USERS_COLLECTION, SCOPE), page)

    def replace_password_hash(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        """Swap the hash only if it is still `old_hash` (a concurrent password change wins)."""
        update = Update().set("password_hash", new_hash)
        return self.table.try_write(
            lambda: self.table.update(self.key(user_id), update, eq("password_hash", old_hash))
        )

    def update_and_delete(
        self,
        item_id: str,
        changes: Mapping[str, Any],
        guard: Guard,
        now: str,
        also: Sequence[Key],
        guards: Sequence[Action] = (),
        check: CallerCheck | None = None,
    ) -> bool:
        """`update_if` and the deletion of the items `also` names, in ONE transaction (e.g. a
        new password and the end of the user's sessions; those beyond the transaction's limit
        are left to the caller's sweep); False if the guard (or one of the extra `guards`
        actions, e.g. spending a reset token) refused it. With a `check`, the transaction also
        holds only while the caller passes it: CallerRefusedError otherwise."""
        update = Update().set_all({**changes, "updated_at": now})
        condition = _on_target(guard.condition(self.owner_attribute), item_id, check)
        parts: list[_Part] = [(_TARGET, update_action(self.key(item_id), update, condition))]
        parts.extend((_OTHER, action) for action in guards)
        return self._transact(_checked(parts, item_id, also, check))

    def _transact(self, parts: list[_Part]) -> bool:
        """Write the transaction; False if a condition refused it, or CallerRefusedError if
        only the caller's checks did (a refused target is explained first: 404 before 403)."""
        try:
            self.table.transact_write([action for _, action in parts])
        except ConditionFailedError as failure:
            failed = {
                part
                for (part, _), reason in zip(parts, failure.reasons, strict=False)
                if reason == CONDITION_FAILED
            }
            if _TARGET not in failed and _CALLER_USER in failed:
                raise CallerRefusedError(on_user=True) from failure
            if _TARGET not in failed and _CALLER_SESSION in failed:
                raise CallerRefusedError(on_user=False) from failure
            return False
        return True

    def delete_if(
        self, item_id: str, guard: Guard, also: Sequence[Key] = (), check: CallerCheck | None = None
    ) -> Written[UserItem]:
        """Remove the user and its e-mail claim together (refused if the user is gone), and the
        items `also` names (its sessions; those beyond the transaction's limit are left to the
        caller's sweep) in the same transaction; with a `check`, only while the caller passes
        it (CallerRefusedError otherwise)."""
        user = self.get(item_id)
        if user is None:
            return Written(None)
        condition = _on_target(guard.condition(self.owner_attribute), user.id, check)
        deleted = new_event("user.deleted", subject(user.id), Deleted(id=user.id), "deleted", utc_now())
        parts: list[_Part] = [
            (_TARGET, delete_action(self.key(user.id), condition)),
            (_TARGET, delete_action(keys.email_claim_key(user.email), eq("user_id", user.id))),
            (_OTHER, announce(deleted)),
        ]
        if not self._transact(_checked(parts, user.id, also, check)):
            return Written(None, self.get(item_id))
        return Written(user)
