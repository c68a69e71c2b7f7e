"""Roles, without pydantic: the authorizer's Lambda (api/auth.py) needs the name only."""

from __future__ import annotations

from typing import Literal

Role = Literal["user", "admin"]
