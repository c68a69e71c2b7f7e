"""The cursor codec: opaque, signed, scoped; anything else is InvalidCursorError."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import InvalidCursorError
from chalicelib.store.cursor import CursorCodec

KEY = b"k" * 32
OLD_KEY = b"o" * 32
LAST = {"pk": "PRODUCT#1", "sk": "PRODUCT", "gsi1pk": "PRODUCTS", "gsi1sk": "2026#1"}


def codec(*keys: bytes) -> CursorCodec:
    return CursorCodec(lambda: list(keys or (KEY,)))


def test_round_trip_returns_the_key() -> None:
    cursor = codec().encode(LAST, "products")
    assert codec().decode(cursor, "products") == LAST


def test_cursor_is_url_safe_and_does_not_show_raw_json() -> None:
    cursor = codec().encode(LAST, "products")
    assert all(c.isalnum() or c in "-_." for c in cursor)
    assert "PRODUCT#1" not in cursor


def test_cursor_from_another_scope_is_refused() -> None:
    cursor = codec().encode(LAST, "products:owner=a")
    with pytest.raises(InvalidCursorError):
        codec().decode(cursor, "products:owner=b")


def test_edited_payload_is_refused() -> None:
    _payload, signature = codec().encode(LAST, "products").split(".")
    forged = dict(LAST, pk="PRODUCT#2")
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidCursorError):
        codec().decode(f"{forged_payload}.{signature}", "products")


def test_cursor_signed_with_another_key_is_refused() -> None:
    cursor = CursorCodec(lambda: [b"x" * 32]).encode(LAST, "products")
    with pytest.raises(InvalidCursorError):
        codec().decode(cursor, "products")


def test_cursor_signed_with_previous_key_still_works_after_rotation() -> None:
    cursor = codec(OLD_KEY).encode(LAST, "products")
    assert codec(KEY, OLD_KEY).decode(cursor, "products") == LAST


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("payload", [b'{"pk": 1}', b'["pk"]', b'"pk"'])
def test_validly_signed_payload_that_is_not_a_string_map_is_refused(payload: bytes) -> None:
    c = codec()
    text = _b64(payload)
    signed = f"{text}.{_b64(c._sign(KEY, 's', text))}"
    with pytest.raises(InvalidCursorError):
        c.decode(signed, "s")


@given(st.text(max_size=300))
def test_arbitrary_text_is_never_accepted_or_crashes(text: str) -> None:
    with pytest.raises(InvalidCursorError):
        codec().decode(text, "products")


def test_oversized_cursor_is_refused_before_any_work() -> None:
    with pytest.raises(InvalidCursorError):
        codec().decode("a" * 5000 + ".b", "products")
