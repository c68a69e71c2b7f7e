"""The authorizer's one read: is this session live, and with which role?

Kept apart from store/sessions.py on purpose: the authorizer imports only this module,
so the DynamoDB actions its IAM policy needs are derived from this file alone (one
GetItem on a `SESSION#` key; see infra/iam.py and tests/unit/test_policy_coverage.py).
"""

from __future__ import annotations

from typing import cast

from chalicelib.models.common import ROLES, Role
from chalicelib.store import keys
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import Table


def live_role(table: Table, user_id: str, session_id: str, now: int) -> Role | None:
    """The session's role while it is live; None once it has ended or expired.

    One strongly consistent GetItem: a logout is visible to the very next request. An
    expired item is checked here because DynamoDB's TTL deletes it only eventually.
    """
    item = table.get(keys.session_key(user_id, session_id))
    if not item or item.get("type") != "session" or int(item.get(TTL_ATTRIBUTE, 0)) <= now:
        return None
    role = item.get("role")
    return cast("Role", role) if isinstance(role, str) and role in ROLES else None
