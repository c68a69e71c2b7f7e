"""The JWT authorizer (API Gateway built-in authorizer), and the Caller it vouches for.

The authorizer grants every route (`routes=['*']`), so API Gateway's cached decision is
right for all of them; what a caller may do is decided by the services, from the Caller
that routes build out of the authorizer's context — never by reading the token again.

A valid signature is not enough: the token's session must still be live (one consistent
GetItem, services/access.py), and the role in the context is the session's, which is
current because a role change ends the user's sessions. API Gateway caches a decision
for AUTHORIZER_CACHE_SECONDS, which is therefore how long a logout takes to reach every
route when deployed; chalice local and the test client run the authorizer per request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from chalice.app import AuthRequest, AuthResponse, Blueprint, Request

from chalicelib import snapstart
from chalicelib.api.authorizer_trace import traced_authorizer
from chalicelib.api.context import ANONYMOUS, principal_id
from chalicelib.api.deps import get_session_table, table_for
from chalicelib.config import get_settings
from chalicelib.errors import ServiceUnavailableError, UnauthorizedError
from chalicelib.models.roles import Role
from chalicelib.security.keys import get_keyring
from chalicelib.security.tokens import InvalidTokenError, verify_token
from chalicelib.services import access
from chalicelib.services.caller import Caller

bp = Blueprint(__name__)
logger = logging.getLogger("storefront")
# API Gateway's result cache for this authorizer: the upper bound on how long an ended
# session's access tokens are still let through when deployed (docs/security.md).
AUTHORIZER_CACHE_SECONDS = 60
# SnapStart: the authorizer's Lambda imports only this module. After a restore the key
# ring is read again (a rotated key applies at once); any client the authorizer caches must
# be dropped here too (tests/deploy checks that no call uses a pre-snapshot client).
snapstart.register(refresh=(get_keyring.cache_clear, table_for.cache_clear))


def _deny(method_arn: str) -> dict[str, Any]:
    # An explicit Deny: API Gateway answers 403 ACCESS_DENIED, which the template maps to
    # the documented 401. (Raising "Unauthorized" would crash chalice local instead.)
    return {
        "principalId": ANONYMOUS,
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
    try:
        who = access.live_caller(get_session_table(), claims, int(time.time()))
    except ServiceUnavailableError:
        # DynamoDB is down or throttling: not the caller's fault, so no 401 that would make a
        # client drop its tokens. Raising is API Gateway's AUTHORIZER_FAILURE, which the
        # template answers 503 + Retry-After (chalice local too: api/local_server.py). Its one
        # WARNING line (cause, request id) is written by traced_authorizer.
        raise
    except Exception as exc:  # a bug: fail closed
        logger.warning("authorizer could not read the session; denying", extra={"cause": type(exc).__name__})
        return _deny(auth_request.method_arn)
    if who is None:
        return _deny(auth_request.method_arn)
    context = {"role": who.role, "session_id": claims.session_id}
    return AuthResponse(routes=["*"], principal_id=who.user_id, context=context)


_traced_authorize = traced_authorizer(authorize)


# Chalice names the deployed Lambda handler after the decorated function (<module>.<__name__>),
# so the authorizer must be a function called jwt_auth defined here, not a wrapped `authorize`:
# otherwise the Handler would be the raw function, which cannot take an API Gateway event.
@bp.authorizer(name="jwt_auth", ttl_seconds=AUTHORIZER_CACHE_SECONDS)
def jwt_auth(auth_request: AuthRequest) -> AuthResponse | dict[str, Any]:
    """The JWT authorizer of every protected route (traced; decisions as in authorize())."""
    return _traced_authorize(auth_request)


def caller(request: Request) -> Caller:
    """Who calls a protected route, as the authorizer vouched for it (its context, never the
    token again); UnauthorizedError if the authorizer did not run."""
    context = (request.context or {}).get("authorizer") or {}
    user_id = principal_id(context)
    if user_id is None:
        raise UnauthorizedError()
    role: Role = "admin" if context.get("role") == "admin" else "user"
    session = context.get("session_id")
    return Caller(user_id=user_id, role=role, session_id=str(session) if session else None)
