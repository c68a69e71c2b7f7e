"""If-Match parsing (RFC 9110 13.1.1, strong comparison) and the ETag we send."""

from __future__ import annotations

import pytest

from chalicelib.api.products import etag, parse_if_match
from chalicelib.errors import ValidationFailedError


def test_etag_is_the_quoted_version() -> None:
    assert etag(3) == '"3"'


@pytest.mark.parametrize("header", [None, "*", " * "])
def test_absent_or_star_matches_any_existing_version(header: str | None) -> None:
    assert parse_if_match(header) is None


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        ('"3"', {3}),
        ('"3", "5"', {3, 5}),
        (' "3" ,, "5" ', {3, 5}),  # empty list members are allowed
        ('W/"3"', set()),  # weak tags never match under strong comparison
        ('W/"3", "4"', {4}),
        ('"03"', set()),  # opaque tags compare as text: "03" is not "3"
        ('"abc"', set()),
        ('"a,b", "2"', {2}),  # a comma inside a quoted tag does not split
        ('""', set()),
    ],
)
def test_entity_tag_lists_yield_the_versions_they_name(header: str, versions: set[int]) -> None:
    assert parse_if_match(header) == frozenset(versions)


@pytest.mark.parametrize("header", ["3", '"3', '"3", *', 'w/"3"', '"3" "4"', "", " , ", '"a b"'])
def test_malformed_if_match_is_a_validation_error(header: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        parse_if_match(header)
    assert caught.value.details[0]["loc"] == ["header", "If-Match"]


def test_too_many_tags_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailedError):
        parse_if_match(", ".join(f'"{i}"' for i in range(51)))


@pytest.mark.parametrize("digits", [19, 39, 4301, 5000])
def test_a_tag_longer_than_any_version_names_no_version(digits: int) -> None:
    assert parse_if_match('"' + "9" * digits + '"') == frozenset()
    assert parse_if_match(f'"{"9" * digits}", "4"') == frozenset({4})


def test_the_longest_version_still_parses() -> None:
    assert parse_if_match('"' + "9" * 18 + '"') == frozenset({10**18 - 1})
