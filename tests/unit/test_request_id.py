"""Which X-Request-Id a request gets: API Gateway's, else a safe client token, else fresh."""

from __future__ import annotations

import re

import pytest

from chalicelib.api.context import choose_request_id, principal_id

FRESH = re.compile(r"^[0-9a-f]{32}$")


def test_gateway_request_id_wins_over_the_clients() -> None:
    assert choose_request_id("gw-123", "client-456") == "gw-123"


@pytest.mark.parametrize("client_id", ["abc", "A.b_c-9", "x" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e"])
def test_safe_client_id_is_used_when_there_is_no_gateway_id(client_id: str) -> None:
    assert choose_request_id(None, client_id) == client_id


@pytest.mark.parametrize(
    "client_id",
    ["", "x" * 129, "has space", "line\nbreak", 'quote"s', "élan", "a/b", '{"json":1}', None],
)
def test_unsafe_or_missing_client_id_gets_a_fresh_one(client_id: str | None) -> None:
    chosen = choose_request_id(None, client_id)
    assert FRESH.match(chosen)
    assert chosen != client_id


def test_fresh_ids_differ() -> None:
    assert choose_request_id(None, None) != choose_request_id(None, None)


@pytest.mark.parametrize(
    ("authorizer", "expected"),
    [({"principalId": "u-1"}, "u-1"), ({"principalId": "anonymous"}, None), ({}, None), (None, None)],
)
def test_only_a_real_principal_is_a_user_id(authorizer: dict[str, str] | None, expected: str | None) -> None:
    assert principal_id(authorizer) == expected
