"""The JWT authorizer (API Gateway built-in authorizer) and the permission helpers.

The authorizer grants every route (`routes=['*']`), so API Gateway's cached decision is
right for all of them; what a caller may do is decided in route code from the claims
it put in the context — never by reading the token again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalice.app import AuthRequest, AuthResponse, Blueprint, Request

from chalicelib import snapstart
from chalicelib.api.middleware import traced_authorizer
from chalicelib.config import get_settings
from chalicelib.errors import ForbiddenError, UnauthorizedError
from chalicelib.security.keys import get_keyring
from chalicelib.security.tokens import InvalidTokenError, verify_token

bp = Blueprint(__name__)
# SnapStart: the authorizer's Lambda imports only this module. After a restore the key
# ring is read again (a rotated key applies at once); any client the authorizer caches must
# be dropped here too (tests/deploy checks that no call uses a pre-snapshot client).
snapstart.register(refresh=(get_keyring.cache_clear,))


def _deny(method_arn: str) -> dict[str, Any]:
    # An explicit Deny: API Gateway answers 403 ACCESS_DENIED, which the template maps to
    # the contract's 401. (Raising "Unauthorized" would crash chalice local instead.)
    return {
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": method_arn}],
        },
        "context": {},
    }


def authorize(auth_request: AuthRequest) -> AuthResponse | dict[str, Any]:
    """Allow every route for a valid bearer token; deny anything else."""
    token = auth_request.token or ""
    scheme, _, credentials = token.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return _deny(auth_request.method_arn)
    try:
        claims = verify_token(credentials.strip(), get_keyring(), get_settings())
    except InvalidTokenError:
        return _deny(auth_request.method_arn)
    return AuthResponse(routes=["*"], principal_id=claims.user_id, context={"role": claims.role})


_traced_authorize = traced_authorizer(authorize)


# Chalice names the deployed Lambda handler after the decorated function (<module>.<__name__>),
# so the authorizer must be a function called jwt_auth defined here, not a wrapped `authorize`:
# otherwise the Handler would be the raw function, which cannot take an API Gateway event.
@bp.authorizer(name="jwt_auth")
def jwt_auth(auth_request: AuthRequest) -> AuthResponse | dict[str, Any]:
    """The JWT authorizer of every protected route (traced; decisions as in authorize())."""
    return _traced_authorize(auth_request)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the authorizer described it."""

    user_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def principal(request: Request) -> Principal:
    """The caller of a protected route (UnauthorizedError if the authorizer did not run)."""
    context = (request.context or {}).get("authorizer") or {}
    user_id = context.get("principalId")
    if not user_id or user_id == "anonymous":
        raise UnauthorizedError()
    return Principal(user_id=str(user_id), role=str(context.get("role", "user")))


def require_self_or_admin(caller: Principal, user_id: str) -> None:
    if caller.user_id != user_id and not caller.is_admin:
        raise ForbiddenError()


def require_owner_or_admin(caller: Principal, owner_id: str) -> None:
    if caller.user_id != owner_id and not caller.is_admin:
        raise ForbiddenError()


def require_admin(caller: Principal) -> None:
    if not caller.is_admin:
        raise ForbiddenError()
