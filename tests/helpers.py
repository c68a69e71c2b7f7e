"""Small helpers shared by the test layers (not fixtures: plain functions)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import get_settings
from chalicelib.security.keys import get_keyring
from chalicelib.security.tokens import issue_token


def token_for(user_id: str, role: str = "user") -> str:
    """A valid access token for any user id, signed with the current test key."""
    token, _ = issue_token(user_id, role, get_keyring(), get_settings())
    return token


def bearer(user_id: str, role: str = "user") -> dict[str, str]:
    """Headers for an authenticated JSON request."""
    return {"Authorization": f"Bearer {token_for(user_id, role)}", "Content-Type": "application/json"}


def json_body(response: Any) -> Any:
    """The JSON body of a chalice test-client response."""
    return json.loads(response.body)
