"""/users, /users/me, /users/{id} and /auth/token."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api.auth import jwt_auth, principal, require_admin, require_self_or_admin
from chalicelib.api.deps import get_table
from chalicelib.api.http import (
    ApiBlueprint,
    created,
    json_response,
    no_content,
    parse_body,
    parse_query,
    path_id,
)
from chalicelib.config import get_settings
from chalicelib.errors import ForbiddenError, UnauthorizedError, UserNotFoundError
from chalicelib.models.common import PageQuery
from chalicelib.models.users import TokenRequest, UserCreate, UserUpdate
from chalicelib.security.keys import get_keyring
from chalicelib.security.passwords import PasswordHasher, hasher_for, policy_for
from chalicelib.services import auth as auth_service
from chalicelib.services import users as user_service

bp = ApiBlueprint(__name__)


def _hasher() -> PasswordHasher:
    return hasher_for(policy_for(get_settings()))


@bp.route("/users", methods=["POST"])
def register() -> Response:
    """Register a user (public)."""
    body = parse_body(bp.current_request, UserCreate)
    user = user_service.register_user(get_table(), body, _hasher())
    return created(user, f"/users/{user.id}")


@bp.route("/auth/token", methods=["POST"])
def token() -> Response:
    """Exchange e-mail and password for a new session's tokens (public)."""
    body = parse_body(bp.current_request, TokenRequest)
    issuer = auth_service.TokenIssuer(keyring=get_keyring(), settings=get_settings())
    tokens = auth_service.login(get_table(), body, _hasher(), issuer)
    return json_response(tokens, headers={"Cache-Control": "no-store"})


@bp.route("/users/me", methods=["GET"], authorizer=jwt_auth)
def me() -> Response:
    """The caller. A valid token whose user was deleted no longer identifies anyone: 401."""
    caller = principal(bp.current_request)
    try:
        return json_response(user_service.get_user(get_table(), caller.user_id))
    except UserNotFoundError as exc:
        raise UnauthorizedError("The account for this token no longer exists") from exc


@bp.route("/users", methods=["GET"], authorizer=jwt_auth)
def list_users() -> Response:
    """Every user, newest first (admin)."""
    require_admin(principal(bp.current_request))
    query = parse_query(bp.current_request, PageQuery)
    return json_response(user_service.list_users(get_table(), query))


@bp.route("/users/{user_id}", methods=["GET"], authorizer=jwt_auth)
def get_user(user_id: str) -> Response:
    """One user (self or admin)."""
    user_id = path_id(user_id, "user_id")
    require_self_or_admin(principal(bp.current_request), user_id)
    return json_response(user_service.get_user(get_table(), user_id))


@bp.route("/users/{user_id}", methods=["PATCH"], authorizer=jwt_auth)
def update_user(user_id: str) -> Response:
    """Change name or password (self or admin); only an admin may change a role."""
    user_id = path_id(user_id, "user_id")
    caller = principal(bp.current_request)
    require_self_or_admin(caller, user_id)
    body = parse_body(bp.current_request, UserUpdate)
    if body.role is not None and not caller.is_admin:
        raise ForbiddenError("Only an admin may change a role")
    return json_response(user_service.update_user(get_table(), user_id, body, _hasher()))


@bp.route("/users/{user_id}", methods=["DELETE"], authorizer=jwt_auth)
def delete_user(user_id: str) -> Response:
    """Delete a user and free the e-mail address (self or admin)."""
    user_id = path_id(user_id, "user_id")
    require_self_or_admin(principal(bp.current_request), user_id)
    user_service.delete_user(get_table(), user_id)
    return no_content()
