"""User repository: the user item and its e-mail claim, kept in step by transactions.

Uniqueness of e-mail addresses is DynamoDB's job, not ours: the user item and an
`EMAIL#<address>` claim item are written in one TransactWriteItems, each with
`attribute_not_exists(pk)`, so of any number of racing registrations exactly one wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.clock import isoformat, utc_now
from chalicelib.models.events import Deleted, new_event
from chalicelib.models.users import UserItem, UserPublic
from chalicelib.store import keys
from chalicelib.store.expr import Update, eq, not_exists
from chalicelib.store.outbox import announce
from chalicelib.store.pagination import Listing, PageRequest
from chalicelib.store.repository import Guard, Repository, Written
from chalicelib.store.schema import GSI1
from chalicelib.store.table import (
    Action,
    ConditionFailedError,
    Key,
    delete_action,
    put_action,
    update_action,
)
from chalicelib.store.views import JsonPage, View

SCOPE = "users"
# Looked up when an e-mail address has no claim, so that a login does the same reads
# whether or not the address is registered (no ULID this service issues is all zeros).
ABSENT_USER_ID = "0" * 26


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
    ) -> bool:
        """`update_if` and the deletion of the items `also` names, in ONE transaction (e.g. a
        new password and the end of the user's sessions); False if the guard (or one of the
        extra `guards` actions, e.g. spending a reset token) refused it."""
        update = Update().set_all({**changes, "updated_at": now})
        actions = [update_action(self.key(item_id), update, guard.condition(self.owner_attribute))]
        actions.extend(delete_action(key) for key in also)
        actions.extend(guards)
        return self.table.try_write(lambda: self.table.transact_write(actions))

    def delete_if(self, item_id: str, guard: Guard, also: Sequence[Key] = ()) -> Written[UserItem]:
        """Remove the user and its e-mail claim together (refused if the user is gone), and the
        items `also` names (its sessions) in the same transaction."""
        user = self.get(item_id)
        if user is None:
            return Written(None)
        actions = [
            delete_action(self.key(user.id), guard.condition(self.owner_attribute)),
            delete_action(keys.email_claim_key(user.email), eq("user_id", user.id)),
            *(delete_action(key) for key in also),
            announce(new_event("user.deleted", subject(user.id), Deleted(id=user.id), "deleted", utc_now())),
        ]
        try:
            self.table.transact_write(actions)
        except ConditionFailedError:
            return Written(None, self.get(item_id))
        return Written(user)
