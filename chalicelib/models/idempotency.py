"""The stored first response to a request sent with an Idempotency-Key."""

from __future__ import annotations

from chalicelib.models.common import StoredModel


class IdempotencyRecord(StoredModel):
    """The first response to a keyed request, and what identifies the request."""

    user_id: str
    key: str
    fingerprint: str
    response: str  # the first response's body, exactly as sent
    expires_at: int  # epoch seconds; the table's TTL attribute
