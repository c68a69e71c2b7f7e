"""User repository: the user item and its e-mail claim, kept in step by transactions.

Uniqueness of e-mail addresses is DynamoDB's job, not ours: the user item and an
`EMAIL#<address>` claim item are written in one TransactWriteItems, each with
`attribute_not_exists(pk)`, so of any number of racing registrations exactly one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.clock import isoformat, parse_timestamp
from chalicelib.errors import EmailTakenError, UserNotFoundError
from chalicelib.models.users import Role, UserItem
from chalicelib.store import keys
from chalicelib.store.pagination import PageRequest, query_newest_first
from chalicelib.store.schema import GSI1
from chalicelib.store.table import ConditionFailedError, Item, Table, to_attributes

SCOPE = "users"
_NOT_EXISTS = "attribute_not_exists(pk)"
_EXISTS = "attribute_exists(pk)"


@dataclass(frozen=True)
class UserChanges:
    """Fields an update may set; None leaves a field alone."""

    name: str | None = None
    password_hash: str | None = None
    role: Role | None = None


def _to_item(user: UserItem) -> Item:
    return {
        **keys.user_key(user.id),
        **keys.user_index_keys(user.id, isoformat(user.created_at)),
        "type": "user",
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "password_hash": user.password_hash,
        "created_at": isoformat(user.created_at),
        "updated_at": isoformat(user.updated_at),
    }


def _from_item(item: Item) -> UserItem:
    return UserItem(
        id=item["id"],
        email=item["email"],
        name=item["name"],
        role=item["role"],
        password_hash=item["password_hash"],
        created_at=parse_timestamp(item["created_at"]),
        updated_at=parse_timestamp(item["updated_at"]),
    )


def create(table: Table, user: UserItem) -> None:
    """Write a new user and claim its e-mail; EmailTakenError if the address is claimed."""
    claim = {**keys.email_claim_key(user.email), "type": "email_claim", "user_id": user.id}
    actions: list[dict[str, Any]] = [
        {"Put": {"Item": to_attributes(_to_item(user)), "ConditionExpression": _NOT_EXISTS}},
        {"Put": {"Item": to_attributes(claim), "ConditionExpression": _NOT_EXISTS}},
    ]
    try:
        table.transact_write(actions)
    except ConditionFailedError as exc:
        raise EmailTakenError() from exc


def get(table: Table, user_id: str) -> UserItem | None:
    """The user with this id, or None."""
    item = table.get(keys.user_key(user_id))
    return _from_item(item) if item else None


def get_by_email(table: Table, email: str) -> UserItem | None:
    """The user that holds this (normalised) e-mail address, or None."""
    claim = table.get(keys.email_claim_key(email))
    return get(table, str(claim["user_id"])) if claim else None


def list_page(table: Table, page: PageRequest) -> tuple[list[UserItem], str | None]:
    """One page of all users, newest first."""
    raw = query_newest_first(table, index=GSI1, partition=keys.USERS_COLLECTION, page=page, scope=SCOPE)
    return [_from_item(item) for item in raw.items], raw.next_cursor


def update(table: Table, user_id: str, changes: UserChanges, updated_at: str) -> UserItem:
    """Apply the changes; UserNotFoundError if the user does not exist (any more)."""
    values: dict[str, Any] = {"updated_at": updated_at}
    values.update({k: v for k, v in vars(changes).items() if v is not None})
    names = {f"#{k}": k for k in values}
    try:
        item = table.update(
            keys.user_key(user_id),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
            ConditionExpression=_EXISTS,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attributes({f":{k}": v for k, v in values.items()}),
        )
    except ConditionFailedError as exc:
        raise UserNotFoundError() from exc
    return _from_item(item)


def replace_password_hash(table: Table, user_id: str, old_hash: str, new_hash: str) -> bool:
    """Swap the hash only if it is still `old_hash` (a concurrent password change wins)."""
    try:
        table.update(
            keys.user_key(user_id),
            UpdateExpression="SET password_hash = :new",
            ConditionExpression="password_hash = :old",
            ExpressionAttributeValues=to_attributes({":new": new_hash, ":old": old_hash}),
        )
    except ConditionFailedError:
        return False
    return True


def delete(table: Table, user: UserItem) -> None:
    """Remove the user and its e-mail claim together; UserNotFoundError if already gone."""
    actions: list[dict[str, Any]] = [
        {"Delete": {"Key": to_attributes(keys.user_key(user.id)), "ConditionExpression": _EXISTS}},
        {
            "Delete": {
                "Key": to_attributes(keys.email_claim_key(user.email)),
                "ConditionExpression": "user_id = :id",
                "ExpressionAttributeValues": to_attributes({":id": user.id}),
            }
        },
    ]
    try:
        table.transact_write(actions)
    except ConditionFailedError as exc:
        raise UserNotFoundError() from exc
