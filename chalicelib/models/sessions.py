"""Session models: RefreshRequest (the body of POST /auth/refresh) and SessionItem (stored)."""

from __future__ import annotations

from pydantic import Field

from chalicelib.models.common import InputModel, Role, StoredModel


class RefreshRequest(InputModel):
    """Body of POST /auth/refresh. Any string is accepted here, empty or over-long included:
    one that is not a refresh token the service issued is a 401 like any other bad
    credential, never a 400 (only a body that is not this shape is a 400)."""

    refresh_token: str


class SessionItem(StoredModel):
    """A session as stored: who, with which role, until when, and the digests of its
    current and spent refresh tokens (never a token itself)."""

    user_id: str
    session_id: str
    role: Role
    current_digest: str = Field(repr=False)
    spent_digests: frozenset[str] = Field(default=frozenset(), repr=False)
    created_at: int  # epoch seconds
    expires_at: int  # epoch seconds; also the table's TTL attribute (store/schema.py)

    def remaining(self, now: int) -> int:
        """Seconds until the session ends (0 once it has)."""
        return max(0, self.expires_at - now)
