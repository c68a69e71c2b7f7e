"""The authorizer's use case: which caller a verified access token stands for, if any.

A valid signature is not enough: the token's session must still be live (one strongly
consistent GetItem), and the caller's role is the session's, which is current because a
role change ends the user's sessions. The authorizer Lambda imports this module (and what
it imports) only, so its IAM policy is bounded by this code (infra/iam.py), and its cold
start carries no model: the read is store/live_sessions.py, without pydantic.
"""

from __future__ import annotations

from chalicelib.security.tokens import Claims
from chalicelib.services.caller import Caller
from chalicelib.store.live_sessions import read_live
from chalicelib.store.table import Table


def live_caller(table: Table, claims: Claims, now: int) -> Caller | None:
    """The caller of a verified token while its session is live; None once it has ended."""
    session = read_live(table, claims.user_id, claims.session_id, now)
    if session is None:
        return None
    return Caller(user_id=session.user_id, role=session.role, session_id=session.session_id)
