"""Refresh tokens: random, naming their session, and compared only by digest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.security.refresh import digest, new_refresh_token, parse_refresh_token


def test_a_new_token_names_its_session_and_parses_to_its_digest() -> None:
    token, stored = new_refresh_token("01USER", "01SESSION")
    parsed = parse_refresh_token(token)
    assert parsed is not None
    assert (parsed.user_id, parsed.session_id, parsed.digest) == ("01USER", "01SESSION", stored)


def test_tokens_are_unique_and_carry_256_bits() -> None:
    tokens = {new_refresh_token("u", "s")[0] for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t.rsplit(".", 1)[1]) == 43 for t in tokens)  # 32 bytes, base64url


def test_the_digest_is_bound_to_the_session_and_reveals_not_the_secret() -> None:
    token, stored = new_refresh_token("u", "s1")
    secret = token.rsplit(".", 1)[1]
    assert digest("s2", secret) != stored
    assert secret not in stored
    assert len(stored) == 22  # 128 bits, base64url


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "u.s." + "x" * 42,
        "u.s." + "x" * 44,
        "u.s." + "x" * 42 + "=",
        "u.s." + "x" * 43 + "\n",
        "u#1.s." + "x" * 43,
        ".s." + "x" * 43,
        "u.." + "x" * 43,
        "u." + "s" * 65 + "." + "x" * 43,
        "u.s." + "é" * 43,
    ],
)
def test_anything_not_shaped_like_our_tokens_is_refused_without_a_lookup(token: str) -> None:
    assert parse_refresh_token(token) is None


@given(st.text(max_size=200))
def test_parsing_never_raises(text: str) -> None:
    parse_refresh_token(text)
