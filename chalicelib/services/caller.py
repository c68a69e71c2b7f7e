"""Who is asking: the one description of a caller that every use case takes."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.models.roles import Role


@dataclass(frozen=True)
class Caller:
    """An authenticated caller, as the authorizer vouched for it.

    `session_id` is the session the access token belongs to (None for operator commands
    such as `manage.py`, which act outside any session).
    """

    user_id: str
    role: Role
    session_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """True for an administrator."""
        return self.role == "admin"

    def owns(self, owner_id: str) -> bool:
        """True when the caller is `owner_id` or an admin."""
        return self.is_admin or self.user_id == owner_id


def operator() -> Caller:
    """The caller of operator commands (`manage.py`): an admin acting outside any session."""
    return Caller(user_id="operator", role="admin", session_id=None)
