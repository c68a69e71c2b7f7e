"""Who the caller is (from the authorizer's context) and what a Caller may do."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.api.auth import caller
from chalicelib.errors import UnauthorizedError
from chalicelib.services.caller import Caller, operator


def request_with(context: dict[str, Any] | None) -> Any:
    return SimpleNamespace(context=context)


def test_caller_comes_from_the_authorizer_context() -> None:
    who = caller(request_with({"authorizer": {"principalId": "u1", "role": "admin"}}))
    assert who == Caller(user_id="u1", role="admin", session_id=None)
    assert who.is_admin


def test_caller_carries_the_session_the_authorizer_names() -> None:
    who = caller(request_with({"authorizer": {"principalId": "u1", "role": "user", "session_id": "s1"}}))
    assert who.session_id == "s1"


@pytest.mark.parametrize("role", [None, "user", "root", "ADMIN", ""])
def test_caller_without_the_admin_role_is_an_ordinary_user(role: str | None) -> None:
    context: dict[str, Any] = {"principalId": "u1"} | ({"role": role} if role is not None else {})
    assert caller(request_with({"authorizer": context})).role == "user"


@pytest.mark.parametrize(
    "context",
    [None, {}, {"authorizer": None}, {"authorizer": {}}, {"authorizer": {"principalId": "anonymous"}}],
)
def test_a_route_reached_without_an_authorizer_decision_is_unauthorized(
    context: dict[str, Any] | None,
) -> None:
    with pytest.raises(UnauthorizedError):
        caller(request_with(context))


def test_owns_is_self_or_admin() -> None:
    user, admin = Caller("u1", "user"), Caller("a1", "admin")
    assert user.owns("u1")
    assert not user.owns("u2")
    assert admin.owns("u2")


def test_the_operator_is_an_admin_outside_any_session() -> None:
    assert operator().is_admin
    assert operator().session_id is None
