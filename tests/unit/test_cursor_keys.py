"""Cursor keys follow the key ring: derived once per ring, a rotation changes them."""

from __future__ import annotations

import pytest

from chalicelib.api import deps
from chalicelib.security import keys

OLD = "an-old-secret-that-is-long-enough-0123456789"
NEW = "a-new-secret-that-is-also-long-enough-987654"


def test_a_rotation_signs_cursors_with_the_new_key_and_still_checks_the_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JWT_SECRET", OLD)
    monkeypatch.delenv("JWT_PREVIOUS_SECRETS", raising=False)
    deps.reset()
    before = keys.cursor_keys()
    monkeypatch.setenv("JWT_SECRET", NEW)
    monkeypatch.setenv("JWT_PREVIOUS_SECRETS", OLD)
    deps.reset()
    after = keys.cursor_keys()
    deps.reset()
    assert len(before) == 1
    assert after[1:] == before  # the old key still verifies
    assert after[0] not in before  # and a new one signs
    assert after[0] == keys.derived_key(keys.make_key(NEW), "cursor")


def test_the_same_ring_gives_equal_keys_each_time_in_a_fresh_list() -> None:
    assert keys.cursor_keys() == keys.cursor_keys()
    assert keys.cursor_keys() is not keys.cursor_keys()  # a fresh list: callers may not share one
