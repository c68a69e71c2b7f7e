"""Idempotency records: `IDEMPOTENCY#<user>#<key>`, kept 24 hours (TTL attribute).

DynamoDB deletes expired items lazily (up to days later), so an expired record is
treated as absent on read and may be overwritten on write.
"""

from __future__ import annotations

from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.store import keys
from chalicelib.store.expr import lt, not_exists
from chalicelib.store.repository import Store
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import Action, Key, put_action

TTL_SECONDS = 24 * 3600


class IdempotencyStore(Store[IdempotencyRecord]):
    """The records of keyed requests, one per user and key; written only inside the
    transaction of the request they answer (`put_action`)."""

    item_type = "idempotency"
    model = IdempotencyRecord

    def key(self, user_id: str, key: str) -> Key:
        """IDEMPOTENCY#<user>#<key> / RECORD."""
        return keys.idempotency_key(user_id, key)

    def put_action(self, record: IdempotencyRecord, now: int) -> Action:
        """A transaction Put that succeeds only if no live record holds this key at `now`."""
        item = self.stored(self.key(record.user_id, record.key), record)
        return put_action(item, not_exists() | lt(TTL_ATTRIBUTE, now))

    def get_live(self, user_id: str, key: str, now: int) -> IdempotencyRecord | None:
        """The record for this user and key, unless absent or expired."""
        raw = self.table.get(self.key(user_id, key))
        # Records written before they carried their user and key are completed from the key.
        record = self.parse({"user_id": user_id, "key": key, **raw} if raw else None)
        return record if record is not None and record.expires_at >= now else None
