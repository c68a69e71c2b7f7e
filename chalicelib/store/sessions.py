"""Session items: started with a check on the user, rotated by one conditional write,
ended by deleting them; and the checks that tie other writes to a live caller.

Item: keys.session_key(user_id, session_id) + {"type": "session", user_id, session_id,
role, current_digest, spent_digests (a list, oldest first, of at most SPENT_DIGESTS_MAX),
created_at, expires_at (epoch seconds, the table's TTL attribute)}. Ending a session deletes
its item: from then on nothing can match it, neither a refresh nor the authorizer's GetItem
(SessionStore.get_live, which is store/live_sessions.read_live).

Items written before the list was bounded hold spent_digests as a String Set (unordered,
unbounded): they are read as they are, and their next rotation rewrites the set as a list.
"""

from __future__ import annotations

from typing import Any

from chalicelib.models.common import Role
from chalicelib.models.sessions import SessionItem
from chalicelib.models.users import UserItem
from chalicelib.store import keys
from chalicelib.store.codec import Item
from chalicelib.store.expr import Condition, Update, eq, exists, gt, is_type, not_exists, size_lt
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

SPENT = "spent_digests"
# How many spent digests a session keeps. Each is 22 characters (1 more as a list element),
# so a full list is ~23 KB: a session item stays under ~24 KB (6 % of DynamoDB's 400 KB item
# limit; the authorizer's strongly consistent GetItem of it ≤ 6 read units, a rotation ≤ 24
# write units). 1,000 rotations are ~10 days of refreshing every 15 minutes, most of a
# session's 14-day life. A rotation that finds the list full writes back only the newest
# SPENT_DIGESTS_KEPT (its own included), so that is needed once per 100 rotations, not on
# every one: the 900 most recently spent tokens are always recognised as spent, one spent
# more than 1,000 rotations ago never is (docs/security.md, "Reuse detection").
SPENT_DIGESTS_MAX = 1000
SPENT_DIGESTS_KEPT = 900


def _room_for_one_more() -> Condition:
    """No spent digest yet, or a List of fewer than SPENT_DIGESTS_MAX. A String Set (an item
    written before the list) fails it too: list_append would refuse that attribute."""
    return not_exists(SPENT) | (is_type(SPENT, "L") & size_lt(SPENT, SPENT_DIGESTS_MAX))


def _spent_in_order(raw: Item) -> list[str]:
    """A session item's spent digests, oldest first. A String Set from before the list has
    no order: its digests are taken as older than any later one, in an arbitrary order."""
    spent = raw.get(SPENT)
    if spent is None:
        return []
    if isinstance(spent, list):
        return [str(digest) for digest in spent]
    return sorted(str(digest) for digest in spent)


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
        """A session → its item (no spent digest, no attribute; the model keeps no order, so
        spent digests, if any, are written as a list in sorted order)."""
        item = self.stored(self.key(session.user_id, session.session_id), session)
        item.pop(SPENT)
        if session.spent_digests:
            item[SPENT] = sorted(session.spent_digests)
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

    def get_live_session(self, user_id: str, session_id: str, now: int) -> SessionItem | None:
        """The whole session (spent digests included) while it is live; None once it has ended
        or expired. The same one strongly consistent GetItem as get_live, for a refresh that
        must know more than the authorizer does: whether the token it holds is a spent one."""
        session = self.parse(self.table.get(self.key(user_id, session_id)))
        return session if session is not None and session.expires_at > now else None

    def rotate(
        self, user_id: str, session_id: str, presented: str, replacement: str, role: Role, now: int
    ) -> SessionItem:
        """Spend `presented` and make `replacement` current, in ONE conditional UpdateItem.

        Of any number of concurrent rotations with one digest exactly one succeeds; the
        others get RotationRefusedError with the session as it was (whose spent digests then
        include theirs). An expired or ended session refuses every rotation.

        The spent digest is appended to a list of at most SPENT_DIGESTS_MAX. When the list is
        full (or is a String Set written before the list), that write is refused and the
        refused item comes back; the rotation is then written once more, with the list
        replaced by its newest SPENT_DIGESTS_KEPT digests (this one last), under the same
        condition. That condition pins the list: only a rotation changes it, and every
        rotation replaces `current_digest` with a new random digest, so while the current
        digest is still `presented` the list is exactly the one that came back.
        """
        key = self.key(user_id, session_id)
        rotation = Update().set("current_digest", replacement).set("role", role)
        pinned = eq("current_digest", presented) & gt(TTL_ATTRIBUTE, now)
        try:
            item = self.table.update(key, rotation.append(SPENT, [presented]), pinned & _room_for_one_more())
        except ConditionFailedError as failure:
            before = self.parse(failure.item)
            if failure.item is None or before is None:
                raise RotationRefusedError(None) from failure
            if before.current_digest != presented or before.expires_at <= now:
                raise RotationRefusedError(before) from failure
            # Refused only for want of room: the rotation again, with the list cut back.
            kept = [*_spent_in_order(failure.item), presented][-SPENT_DIGESTS_KEPT:]
            try:
                item = self.table.update(key, rotation.set(SPENT, kept), pinned)
            except ConditionFailedError as refused:
                raise RotationRefusedError(self.parse(refused.item)) from refused
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
        checks.append(condition_check_action(keys.session_key(user_id, session_id), session_live(now)))
    return checks


def session_live(now: int) -> Condition:
    """The session item exists and has not expired at `now` (epoch seconds): what every write
    that carries a caller's checks requires of its session (caller_checks, users.CallerCheck)."""
    return exists() & gt(TTL_ATTRIBUTE, now)
