"""/users, /users/me, /users/{id} and /auth/token."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api.accounts import mail_context
from chalicelib.api.auth import caller, jwt_auth
from chalicelib.api.deps import get_hasher, get_table
from chalicelib.api.http import (
    IDEMPOTENCY_KEY_HEADER,
    ApiBlueprint,
    created,
    idempotency_key,
    json_response,
    no_content,
    parse_body,
    parse_query,
    path_id,
    replay_headers,
)
from chalicelib.config import get_settings
from chalicelib.errors import UnauthorizedError, UserNotFoundError
from chalicelib.models.common import Page, PageQuery
from chalicelib.models.users import TokenPublic, TokenRequest, UserCreate, UserPublic, UserUpdate
from chalicelib.security.keys import get_keyring
from chalicelib.services import accounts
from chalicelib.services import auth as auth_service
from chalicelib.services import users as user_service

bp = ApiBlueprint(__name__, tag="users")


@bp.operation(
    "POST",
    "/users",
    "Register",
    201,
    body=UserCreate,
    response=UserPublic,
    errors=(400, 409),
    headers=IDEMPOTENCY_KEY_HEADER,
)
def register() -> Response:
    """Register a user (public; at most once per Idempotency-Key); a verification mail goes out."""
    request = bp.current_request
    body = parse_body(request, UserCreate)
    key = idempotency_key(request.headers)
    made = accounts.register(get_table(), body, get_hasher(), mail_context(), key=key)
    return created(made.value, f"/users/{made.value.id}", replay_headers(made.replayed))


@bp.operation(
    "POST",
    "/auth/token",
    "Start a session: an access token (at most 15 min) and a refresh token",
    body=TokenRequest,
    response=TokenPublic,
    errors=(400, 401, 429),
    tag="auth",
)
def token() -> Response:
    """Exchange e-mail and password for a new session's tokens (public)."""
    body = parse_body(bp.current_request, TokenRequest)
    issuer = auth_service.TokenIssuer(keyring=get_keyring(), settings=get_settings())
    return json_response(auth_service.login(get_table(), body, get_hasher(), issuer))


@bp.operation("GET", "/users/me", "The caller", response=UserPublic, auth=jwt_auth)
def me() -> Response:
    """The caller. A valid token whose user was deleted no longer identifies anyone: 401."""
    try:
        return json_response(user_service.get_me(get_table(), caller(bp.current_request)))
    except UserNotFoundError as exc:
        raise UnauthorizedError("The account for this token no longer exists") from exc


@bp.operation(
    "GET",
    "/users",
    "All users (admin)",
    query=PageQuery,
    response=Page[UserPublic],
    auth=jwt_auth,
    errors=(400, 403),
)
def list_users() -> Response:
    """Every user, newest first (admin)."""
    request = bp.current_request
    page = user_service.list_users(get_table(), caller(request), lambda: parse_query(request, PageQuery))
    return json_response(page)


@bp.operation(
    "GET",
    "/users/{user_id}",
    "One user (self or admin)",
    response=UserPublic,
    auth=jwt_auth,
    errors=(403, 404),
)
def get_user(user_id: str) -> Response:
    """One user (self or admin)."""
    return json_response(
        user_service.get_user(get_table(), caller(bp.current_request), path_id(user_id, "user_id"))
    )


@bp.operation(
    "PATCH",
    "/users/{user_id}",
    "Update a user (self or admin)",
    body=UserUpdate,
    response=UserPublic,
    auth=jwt_auth,
    errors=(400, 403, 404),
)
def update_user(user_id: str) -> Response:
    """Change name or password (self or admin); only an admin may change a role."""
    request = bp.current_request
    user = user_service.update_user(
        get_table(),
        caller(request),
        path_id(user_id, "user_id"),
        lambda: parse_body(request, UserUpdate),
        get_hasher(),
    )
    return json_response(user)


@bp.operation(
    "DELETE", "/users/{user_id}", "Delete a user (self or admin)", 204, auth=jwt_auth, errors=(403, 404)
)
def delete_user(user_id: str) -> Response:
    """Delete a user and free the e-mail address (self or admin)."""
    user_service.delete_user(get_table(), caller(bp.current_request), path_id(user_id, "user_id"))
    return no_content()
