"""The JWT authorizer (API Gateway built-in authorizer), and the Caller it vouches for.

The authorizer grants every route (`routes=['*']`), so API Gateway's cached decision is
right for all of them; what a caller may do is decided by the services, from the Caller
that routes build out of the authorizer's context — never by reading the token again.
"""

from __future__ import annotations

from typing import Any

from chalice.app import AuthRequest, AuthResponse, Blueprint, Request

from chalicelib import snapstart
from chalicelib.api.middleware import traced_authorizer
from chalicelib.config import get_settings
from chalicelib.errors import UnauthorizedError
from chalicelib.models.common import Role
from chalicelib.security.keys import get_keyring
from chalicelib.security.tokens import InvalidTokenError, verify_token
from chalicelib.services.caller import Caller

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


def caller(request: Request) -> Caller:
    """Who calls a protected route, as the authorizer vouched for it (its context, never the
    token again); UnauthorizedError if the authorizer did not run."""
    context = (request.context or {}).get("authorizer") or {}
    user_id = context.get("principalId")
    if not user_id or user_id == "anonymous":
        raise UnauthorizedError()
    role: Role = "admin" if context.get("role") == "admin" else "user"
    session = context.get("session_id")
    return Caller(user_id=str(user_id), role=role, session_id=str(session) if session else None)
