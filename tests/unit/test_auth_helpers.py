"""Permission helpers: who the caller is (from the authorizer's context) and what they may do."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.api.auth import (
    Principal,
    principal,
    require_admin,
    require_owner_or_admin,
    require_self_or_admin,
)
from chalicelib.errors import ForbiddenError, UnauthorizedError

USER = Principal(user_id="u1", role="user")
ADMIN = Principal(user_id="a1", role="admin")


def request_with(context: dict[str, Any] | None) -> Any:
    return SimpleNamespace(context=context)


def test_principal_comes_from_the_authorizer_context() -> None:
    caller = principal(request_with({"authorizer": {"principalId": "u1", "role": "admin"}}))
    assert caller == Principal(user_id="u1", role="admin")
    assert caller.is_admin


def test_principal_without_a_role_is_an_ordinary_user() -> None:
    assert not principal(request_with({"authorizer": {"principalId": "u1"}})).is_admin


@pytest.mark.parametrize(
    "context",
    [None, {}, {"authorizer": None}, {"authorizer": {}}, {"authorizer": {"principalId": "anonymous"}}],
)
def test_a_route_reached_without_an_authorizer_decision_is_unauthorized(
    context: dict[str, Any] | None,
) -> None:
    with pytest.raises(UnauthorizedError):
        principal(request_with(context))


def test_self_or_admin() -> None:
    require_self_or_admin(USER, "u1")
    require_self_or_admin(ADMIN, "u1")
    with pytest.raises(ForbiddenError):
        require_self_or_admin(USER, "u2")


def test_owner_or_admin() -> None:
    require_owner_or_admin(USER, "u1")
    require_owner_or_admin(ADMIN, "u1")
    with pytest.raises(ForbiddenError):
        require_owner_or_admin(USER, "someone-else")


def test_admin_only() -> None:
    require_admin(ADMIN)
    with pytest.raises(ForbiddenError):
        require_admin(USER)
