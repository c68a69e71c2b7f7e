"""/auth/refresh, /auth/logout and /auth/logout-all (a session starts at /auth/token)."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api.auth import caller, jwt_auth
from chalicelib.api.deps import get_table
from chalicelib.api.http import ApiBlueprint, json_response, no_content, parse_body
from chalicelib.config import get_settings
from chalicelib.models.sessions import RefreshRequest
from chalicelib.security.keys import get_keyring
from chalicelib.services import sessions
from chalicelib.services.auth import LockoutPolicy

bp = ApiBlueprint(__name__)
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/auth/refresh", methods=["POST"])
def refresh() -> Response:
    """Spend a refresh token for new tokens in the same session (public)."""
    body = parse_body(bp.current_request, RefreshRequest)
    tokens = sessions.refresh(get_table(), body, get_keyring(), get_settings(), LockoutPolicy())
    return json_response(tokens, headers=NO_STORE)


@bp.route("/auth/logout", methods=["POST"], authorizer=jwt_auth)
def logout() -> Response:
    """End the caller's session."""
    sessions.logout(get_table(), caller(bp.current_request))
    return no_content()


@bp.route("/auth/logout-all", methods=["POST"], authorizer=jwt_auth)
def logout_all() -> Response:
    """End every session of the caller."""
    sessions.logout_all(get_table(), caller(bp.current_request))
    return no_content()
