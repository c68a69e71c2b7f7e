"""Session items: started with a check on the user, rotated by one conditional write,
ended by deleting them; and the checks that tie other writes to a live caller.

Item: keys.session_key(user_id, session_id) + {"type": "session", user_id, session_id,
role, current_digest, spent_digests (string set), created_at, expires_at (epoch seconds,
the table's TTL attribute)}. Ending a session deletes its item: from then on nothing can
match it, neither a refresh nor the authorizer's GetItem (SessionStore.get_live, which is
store/live_sessions.read_live).
"""

from __future__ import annotations

from typing import Any

from chalicelib.models.common import Role
from chalicelib.models.sessions import SessionItem
from chalicelib.models.users import UserItem
from chalicelib.store import keys
from chalicelib.store.codec import Item
from chalicelib.store.expr import Update, eq, exists, gt, not_exists
from chalicelib.store.live_sessions import ITEM_TYPE, LiveSession, read_live
from chalicelib.store.repository import Store
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import (
    Action,
    ConditionFailedError,
    Key,
    condition_check_action,
    delete_action,
    put_action,
)


class StaleUserError(Exception):
    """The user changed (deleted, new password, new role) while the session was being started."""


class RotationRefusedError(Exception):
    """The presented digest is not the session's current one (or the session is over).
    `session` is the session as it was when the write was refused, or None if absent."""

    def __init__(self, session: SessionItem | None) -> None:
        super().__init__("refresh refused")
        self.session = session


class SessionStore(Store[SessionItem]):
    """The sessions of every user: one item per session, in its user's session partition."""

    item_type = ITEM_TYPE
    model = SessionItem

    def key(self, user_id: str, session_id: str) -> Key:
        """SESSION#<user_id> / SESSION#<session_id>."""
        return keys.session_key(user_id, session_id)

    def to_item(self, session: SessionItem) -> Item:
        """A session → its item (DynamoDB has no empty sets: no spent digest, no attribute)."""
        item = self.stored(self.key(session.user_id, session.session_id), session)
        item.pop("spent_digests")
        if session.spent_digests:
            item["spent_digests"] = set(session.spent_digests)
        return item

    def get_live(self, user_id: str, session_id: str, now: int) -> LiveSession | None:
        """The session while it is live; None once it has ended or expired (the authorizer's
        one read, store/live_sessions.py: it imports no model)."""
        return read_live(self.table, user_id, session_id, now)

    def start(self, session: SessionItem, user: UserItem) -> None:
        """Write a new session, only if `user` is still as it was; StaleUserError otherwise.

        The user as the password was checked against: still there, same role, same hash. A
        delete, a password change or a role change that commits first refuses the session, so
        no session can outlive the "end all sessions" that follows such a change.
        """
        unchanged = exists() & eq("role", user.role) & eq("password_hash", user.password_hash)
        actions: list[Action] = [
            put_action(self.to_item(session), not_exists()),
            condition_check_action(keys.user_key(user.id), unchanged),
        ]
        if not self.table.try_write(lambda: self.table.transact_write(actions)):
            raise StaleUserError()

    def rotate(
        self, user_id: str, session_id: str, presented: str, replacement: str, role: Role, now: int
    ) -> SessionItem:
        """Spend `presented` and make `replacement` current, in ONE conditional UpdateItem.

        Of any number of concurrent rotations with one digest exactly one succeeds; the
        others get RotationRefusedError with the session as it was (whose spent digests then
        include theirs). An expired or ended session refuses every rotation.
        """
        update = (
            Update().set("current_digest", replacement).set("role", role).add("spent_digests", {presented})
        )
        condition = eq("current_digest", presented) & gt(TTL_ATTRIBUTE, now)
        try:
            item = self.table.update(self.key(user_id, session_id), update, condition)
        except ConditionFailedError as failure:
            raise RotationRefusedError(self.parse(failure.item)) from failure
        session = self.parse(item)
        if session is None:  # unreachable: the condition held on a session item
            raise RotationRefusedError(None)
        return session

    def end(self, user_id: str, session_id: str) -> None:
        """End one session (nothing happens if it has already ended)."""
        self.table.delete(self.key(user_id, session_id))

    def keys_of(self, user_id: str) -> list[Key]:
        """The keys of every session of the user (strongly consistent Query on its partition)."""
        return self.table.partition_keys(keys.user_sessions_partition(user_id))

    def end_all(self, user_id: str) -> int:
        """End every session of the user; how many there were. One strongly consistent Query
        (per page of keys) lists them, then one transaction deletes them all together (per 100),
        so an outage midway never leaves some of them ended and the rest alive."""
        found = self.keys_of(user_id)
        if len(found) == 1:  # one item: a DeleteItem is atomic already, and cheaper
            self.table.delete(found[0])
        else:
            for start in range(0, len(found), _TRANSACTION_LIMIT):
                batch = found[start : start + _TRANSACTION_LIMIT]
                self.table.transact_write([delete_action(key) for key in batch])
        return len(found)


# A transaction holds at most 100 actions; the user's own one or two come first.
MAX_ENDED_IN_ONE_WRITE = 97
# TransactWriteItems takes at most 100 actions.
_TRANSACTION_LIMIT = 100


def caller_checks(user_id: str, session_id: str | None, now: int) -> list[dict[str, Any]]:
    """Transaction ConditionChecks that hold only while the caller's user exists and, for a
    caller with a session, while that session is live: a write that carries them cannot
    commit after the user's deletion (or the session's end) was acknowledged."""
    checks = [condition_check_action(keys.user_key(user_id), exists())]
    if session_id is not None:
        live = exists() & gt(TTL_ATTRIBUTE, now)
        checks.append(condition_check_action(keys.session_key(user_id, session_id), live))
    return checks
