"""If-None-Match parsing (RFC 9110 13.1.2: weak comparison, `*`, lists; malformed → ignored)."""

from __future__ import annotations

import pytest

from chalicelib.api.products import none_match_fails, parse_if_none_match


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        ('"3"', {"3"}),
        ('W/"3"', {"3"}),  # weak comparison: the W/ prefix does not matter
        ('"3", W/"4"', {"3", "4"}),
        (' "3" ,, "5" ', {"3", "5"}),
        ('"a,b"', {"a,b"}),
        ('""', {""}),
        ("*", {"*"}),
        (" * ", {"*"}),
    ],
)
def test_entity_tags_are_read_as_opaque_text(header: str, tags: set[str]) -> None:
    assert parse_if_none_match(header) == frozenset(tags)


@pytest.mark.parametrize("header", [None, "", " , ", "3", '"3', 'w/"3"', '"3" "4"', '"3", *', '"a b"'])
def test_absent_empty_or_malformed_headers_are_ignored(header: str | None) -> None:
    assert parse_if_none_match(header) is None


@pytest.mark.parametrize(
    ("tags", "current", "fails"),
    [
        (frozenset({"3"}), '"3"', True),
        (frozenset({"3"}), 'W/"3"', True),
        (frozenset({"*"}), '"9"', True),
        (frozenset({"03"}), '"3"', False),
        (frozenset({"4", "5"}), '"3"', False),
        (None, '"3"', False),
    ],
)
def test_the_precondition_fails_when_a_tag_names_the_current_one(
    tags: frozenset[str] | None, current: str, fails: bool
) -> None:
    assert none_match_fails(tags, current) is fails
