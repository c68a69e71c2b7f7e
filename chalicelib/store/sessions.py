"""Session items: started with a check on the user, rotated by one conditional write,
ended by deleting them; and the checks that tie other writes to a live caller.

Item: keys.session_key(user_id, session_id) + {"type": "session", user_id, session_id,
role, current_digest, spent_digests (string set), created_at, expires_at (epoch seconds,
the table's TTL attribute)}. Ending a session deletes its item: from then on nothing can
match it, neither a refresh nor the authorizer's GetItem (store/session_status.py).
"""

from __future__ import annotations

from typing import Any

from chalicelib.models.sessions import SessionItem
from chalicelib.models.users import UserItem
from chalicelib.store import keys
from chalicelib.store.codec import Item
from chalicelib.store.expr import Update, eq, exists, gt, not_exists
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import (
    Action,
    ConditionFailedError,
    Key,
    Table,
    condition_check_action,
    delete_action,
    put_action,
)

ITEM_TYPE = "session"


class StaleUserError(Exception):
    """The user changed (deleted, new password, new role) while the session was being started."""


class RotationRefusedError(Exception):
    """The presented digest is not the session's current one (or the session is over).
    `session` is the session as it was when the write was refused, or None if absent."""

    def __init__(self, session: SessionItem | None) -> None:
        super().__init__("refresh refused")
        self.session = session


def _to_item(session: SessionItem) -> Item:
    item: Item = {
        **keys.session_key(session.user_id, session.session_id),
        "type": ITEM_TYPE,
        "user_id": session.user_id,
        "session_id": session.session_id,
        "role": session.role,
        "current_digest": session.current_digest,
        "created_at": session.created_at,
        TTL_ATTRIBUTE: session.expires_at,
    }
    if session.spent_digests:  # DynamoDB has no empty sets
        item["spent_digests"] = set(session.spent_digests)
    return item


def to_session(item: Item | None) -> SessionItem | None:
    """A stored item → SessionItem (None for an absent item or anything not a session)."""
    if not item or item.get("type") != ITEM_TYPE:
        return None
    return SessionItem(
        user_id=item["user_id"],
        session_id=item["session_id"],
        role=item["role"],
        current_digest=item["current_digest"],
        spent_digests=frozenset(item.get("spent_digests") or ()),
        created_at=int(item["created_at"]),
        expires_at=int(item[TTL_ATTRIBUTE]),
    )


def start(table: Table, session: SessionItem, user: UserItem) -> None:
    """Write a new session, only if `user` is still as it was; StaleUserError otherwise.

    The user as the password was checked against: still there, same role, same hash. A
    delete, a password change or a role change that commits first refuses the session, so
    no session can outlive the "end all sessions" that follows such a change.
    """
    unchanged = exists() & eq("role", user.role) & eq("password_hash", user.password_hash)
    actions: list[Action] = [
        put_action(_to_item(session), not_exists()),
        condition_check_action(keys.user_key(user.id), unchanged),
    ]
    try:
        table.transact_write(actions)
    except ConditionFailedError as exc:
        raise StaleUserError() from exc


def rotate(
    table: Table, user_id: str, session_id: str, presented: str, replacement: str, role: str, now: int
) -> SessionItem:
    """Spend `presented` and make `replacement` current, in ONE conditional UpdateItem.

    Of any number of concurrent rotations with one digest exactly one succeeds; the
    others get RotationRefusedError with the session as it was (whose spent digests then
    include theirs). An expired or ended session refuses every rotation.
    """
    update = Update().set("current_digest", replacement).set("role", role).add("spent_digests", {presented})
    condition = eq("current_digest", presented) & gt(TTL_ATTRIBUTE, now)
    try:
        item = table.update(keys.session_key(user_id, session_id), update, condition)
    except ConditionFailedError as failure:
        raise RotationRefusedError(to_session(failure.item)) from failure
    session = to_session(item)
    if session is None:  # unreachable: the condition held on a session item
        raise RotationRefusedError(None)
    return session


def end(table: Table, user_id: str, session_id: str) -> None:
    """End one session (nothing happens if it has already ended)."""
    table.delete(keys.session_key(user_id, session_id))


# A transaction holds at most 100 actions; the user's own one or two come first.
MAX_ENDED_IN_ONE_WRITE = 97


def keys_of(table: Table, user_id: str) -> list[Key]:
    """The keys of every session of the user (strongly consistent Query on its partition)."""
    return table.partition_keys(keys.user_sessions_partition(user_id))


# TransactWriteItems takes at most 100 actions.
_TRANSACTION_LIMIT = 100


def end_all(table: Table, user_id: str) -> int:
    """End every session of the user; how many there were. One strongly consistent Query
    (per page of keys) lists them, then one transaction deletes them all together (per 100),
    so an outage midway never leaves some of them ended and the rest alive."""
    found = table.partition_keys(keys.user_sessions_partition(user_id))
    if len(found) == 1:  # one item: a DeleteItem is atomic already, and cheaper
        table.delete(found[0])
    else:
        for start in range(0, len(found), _TRANSACTION_LIMIT):
            table.transact_write([delete_action(key) for key in found[start : start + _TRANSACTION_LIMIT]])
    return len(found)


def caller_checks(user_id: str, session_id: str | None, now: int) -> list[dict[str, Any]]:
    """Transaction ConditionChecks that hold only while the caller's user exists and, for a
    caller with a session, while that session is live: a write that carries them cannot
    commit after the user's deletion (or the session's end) was acknowledged."""
    checks = [condition_check_action(keys.user_key(user_id), exists())]
    if session_id is not None:
        live = exists() & gt(TTL_ATTRIBUTE, now)
        checks.append(condition_check_action(keys.session_key(user_id, session_id), live))
    return checks
