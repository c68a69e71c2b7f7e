"""The text rule's JSON Schema patterns (in /openapi.json) refuse exactly what the validators do."""

from __future__ import annotations

import re

from chalicelib.models.text import (
    DESCRIPTION_ALLOWED_CONTROLS,
    DESCRIPTION_PATTERN,
    NAME_PATTERN,
    unsafe_characters,
)

# Every code point of the Basic Multilingual Plane but the surrogates (no UTF-8 body holds one),
# and a sample of the others.
CODE_POINTS = [*range(0xD800), *range(0xE000, 0x10000), 0x1F600, 0x1D11E, 0xE0001, 0x10FFFD]


def test_the_name_pattern_refuses_exactly_the_characters_the_rule_refuses() -> None:
    pattern = re.compile(NAME_PATTERN)
    disagree = [
        f"U+{point:04X}"
        for point in CODE_POINTS
        if (pattern.fullmatch(f"a{chr(point)}") is None) != bool(unsafe_characters(chr(point)))
    ]
    assert disagree == []


def test_the_description_pattern_allows_line_feed_and_tab_only_among_controls() -> None:
    pattern = re.compile(DESCRIPTION_PATTERN)
    disagree = [
        f"U+{point:04X}"
        for point in CODE_POINTS
        if (pattern.fullmatch(chr(point)) is None)
        != bool(unsafe_characters(chr(point), DESCRIPTION_ALLOWED_CONTROLS))
    ]
    assert disagree == []
    assert pattern.fullmatch("")


def test_a_name_needs_a_character_that_is_not_white_space() -> None:
    pattern = re.compile(NAME_PATTERN)
    assert pattern.fullmatch(" \u00a0\u3000 ") is None
    assert pattern.fullmatch(" x ")
