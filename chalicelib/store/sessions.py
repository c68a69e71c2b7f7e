"""Session items: started with a check on the user, rotated by one conditional write,
ended by deleting them; and the checks that tie other writes to a live caller.

Item: keys.session_key(user_id, session_id) + {"type": "session", user_id, session_id,
role, current_digest, spent_digests (string set), created_at, expires_at (epoch seconds,
the table's TTL attribute)}. Ending a session deletes its item: from then on nothing can
match it, neither a refresh nor the authorizer's GetItem (store/session_status.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from chalicelib.errors import SessionEndedError
from chalicelib.models.sessions import SessionItem
from chalicelib.models.users import UserItem
from chalicelib.store import keys
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import ConditionFailedError, Item, Table, from_attributes, to_attributes

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


def to_session(item: Item) -> SessionItem | None:
    """A stored item → SessionItem (None for anything that is not a session)."""
    if item.get("type") != ITEM_TYPE:
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


def _user_unchanged(user: UserItem) -> dict[str, Any]:
    # The user as the password was checked against: still there, same role, same hash.
    # A delete, a password change or a role change that commits first refuses the session,
    # so no session can outlive the "end all sessions" that follows such a change.
    return {
        "ConditionCheck": {
            "Key": to_attributes(keys.user_key(user.id)),
            "ConditionExpression": "attribute_exists(pk) AND #role = :role AND #hash = :hash",
            "ExpressionAttributeNames": {"#role": "role", "#hash": "password_hash"},
            "ExpressionAttributeValues": to_attributes({":role": user.role, ":hash": user.password_hash}),
        }
    }


def start(table: Table, session: SessionItem, user: UserItem) -> None:
    """Write a new session, only if `user` is still as it was; StaleUserError otherwise."""
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "Item": to_attributes(_to_item(session)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        _user_unchanged(user),
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
    try:
        item = table.update(
            keys.session_key(user_id, session_id),
            UpdateExpression="SET current_digest = :new, #role = :role ADD spent_digests :spent",
            ConditionExpression="current_digest = :presented AND #expires > :now",
            ExpressionAttributeNames={"#role": "role", "#expires": TTL_ATTRIBUTE},
            ExpressionAttributeValues=to_attributes(
                {
                    ":new": replacement,
                    ":role": role,
                    ":spent": {presented},
                    ":presented": presented,
                    ":now": now,
                }
            ),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ConditionFailedError as failure:
        raise RotationRefusedError(to_session(failure.item) if failure.item else None) from failure
    session = to_session(item)
    assert session is not None  # the condition held on a session item
    return session


def end(table: Table, user_id: str, session_id: str) -> None:
    """End one session (nothing happens if it has already ended)."""
    table.delete(keys.session_key(user_id, session_id))


def end_all(table: Table, user_id: str) -> int:
    """End every session of the user; how many there were. One strongly consistent Query
    (per page) lists them, then one DeleteItem each."""
    count = 0
    for key in _session_keys(table, user_id):
        table.delete(key)
        count += 1
    return count


def _session_keys(table: Table, user_id: str) -> Iterator[dict[str, str]]:
    params: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": to_attributes({":pk": keys.user_sessions_partition(user_id)}),
        "ProjectionExpression": "pk, sk",
        "ConsistentRead": True,
    }
    while True:
        response = table.query(**params)
        for raw in response.get("Items", []):
            item = from_attributes(raw)
            yield {"pk": item["pk"], "sk": item["sk"]}
        if not response.get("LastEvaluatedKey"):
            return
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def caller_checks(user_id: str, session_id: str | None, now: int) -> list[dict[str, Any]]:
    """Transaction items that hold only while the caller's user exists and, for a caller
    with a session, while that session is live: a write that carries them cannot commit
    after the user's deletion (or the session's end) was acknowledged."""
    checks: list[dict[str, Any]] = [
        {
            "ConditionCheck": {
                "Key": to_attributes(keys.user_key(user_id)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
    ]
    if session_id is not None:
        checks.append(
            {
                "ConditionCheck": {
                    "Key": to_attributes(keys.session_key(user_id, session_id)),
                    "ConditionExpression": "attribute_exists(pk) AND #expires > :now",
                    "ExpressionAttributeNames": {"#expires": TTL_ATTRIBUTE},
                    "ExpressionAttributeValues": to_attributes({":now": now}),
                }
            }
        )
    return checks


def transact_as_caller(
    table: Table, actions: Sequence[dict[str, Any]], checks: Sequence[dict[str, Any]]
) -> None:
    """Run `actions` with the caller checks appended; SessionEndedError if a check failed,
    ConditionFailedError (reasons of `actions` only) if one of the actions' conditions did."""
    try:
        table.transact_write([*actions, *checks])
    except ConditionFailedError as failure:
        if "ConditionalCheckFailed" in failure.reasons[len(actions) :]:
            raise SessionEndedError() from failure
        raise ConditionFailedError(failure.reasons[: len(actions)], failure.item) from failure
