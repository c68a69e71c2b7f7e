"""Roles, without pydantic: the authorizer's Lambda (api/auth.py) needs the name only."""

from __future__ import annotations

from typing import Literal, get_args

# The one definition of a role (the caller's, a user's, an update's).
Role = Literal["user", "admin"]
ROLES: frozenset[str] = frozenset(get_args(Role))
