"""Idempotency records: `IDEMPOTENCY#<user>#<key>`, kept 24 hours (TTL attribute).

DynamoDB deletes expired items lazily (up to days later), so an expired record is
treated as absent on read and may be overwritten on write.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.store import keys
from chalicelib.store.expr import lt, not_exists
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import Action, Table, put_action

TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first response to a keyed request, and what identifies the request."""

    user_id: str
    key: str
    fingerprint: str
    response: str  # the first response's body, exactly as sent
    expires_at: int  # epoch seconds
    now: int  # when the record is written (epoch seconds)


def record_action(record: IdempotencyRecord) -> Action:
    """A transaction Put that succeeds only if no live record holds this key."""
    item = {
        **keys.idempotency_key(record.user_id, record.key),
        "type": "idempotency",
        "fingerprint": record.fingerprint,
        "response": record.response,
        TTL_ATTRIBUTE: record.expires_at,
    }
    return put_action(item, not_exists() | lt(TTL_ATTRIBUTE, record.now))


def get_live(table: Table, user_id: str, key: str, now: int) -> IdempotencyRecord | None:
    """The record for this user and key, unless absent or expired."""
    item = table.get(keys.idempotency_key(user_id, key))
    if not item or int(item[TTL_ATTRIBUTE]) < now:
        return None
    return IdempotencyRecord(
        user_id=user_id,
        key=key,
        fingerprint=str(item["fingerprint"]),
        response=str(item["response"]),
        expires_at=int(item[TTL_ATTRIBUTE]),
        now=now,
    )
