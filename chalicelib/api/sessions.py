"""/auth/refresh, /auth/logout and /auth/logout-all (a session starts at /auth/token)."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api.auth import caller, jwt_auth
from chalicelib.api.deps import get_table
from chalicelib.api.http import ApiBlueprint, json_response, no_content, parse_body
from chalicelib.config import get_settings
from chalicelib.models.sessions import RefreshRequest
from chalicelib.models.users import TokenPublic
from chalicelib.security.keys import get_keyring
from chalicelib.services import sessions
from chalicelib.services.lockout import LockoutPolicy

bp = ApiBlueprint(__name__, tag="auth")


@bp.operation(
    "POST",
    "/auth/refresh",
    "Spend a refresh token for new tokens in the same session (a spent one ends it)",
    body=RefreshRequest,
    response=TokenPublic,
    errors=(400, 401, 429),
)
def refresh() -> Response:
    """Spend a refresh token for new tokens in the same session (public)."""
    body = parse_body(bp.current_request, RefreshRequest)
    tokens = sessions.refresh(get_table(), body, get_keyring(), get_settings(), LockoutPolicy())
    return json_response(tokens)


@bp.operation("POST", "/auth/logout", "End the caller's session", 204, auth=jwt_auth)
def logout() -> Response:
    """End the caller's session."""
    sessions.logout(get_table(), caller(bp.current_request))
    return no_content()


@bp.operation("POST", "/auth/logout-all", "End every session of the caller", 204, auth=jwt_auth)
def logout_all() -> Response:
    """End every session of the caller."""
    sessions.logout_all(get_table(), caller(bp.current_request))
    return no_content()
