"""chalice's headers looked up without an exception answer as Mapping's get and `in` do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import chalice.app
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.api import header_lookup

_names = st.sampled_from(
    ["Accept", "accept", "ACCEPT", "If-None-Match", "x-request-id", "", "ß", "İ"]
) | st.text(max_size=6)


@given(
    headers=st.dictionaries(_names, st.text(max_size=4), max_size=4),
    name=_names,
    default=st.none() | st.text(),
)
def test_get_and_in_answer_as_mappings(headers: dict[str, str], name: str, default: str | None) -> None:
    mapping = chalice.app.CaseInsensitiveMapping(headers)
    assert header_lookup.get(mapping, name) == Mapping.get(mapping, name)
    assert header_lookup.get(mapping, name, default) == Mapping.get(mapping, name, default)
    assert header_lookup.contains(mapping, name) == Mapping.__contains__(mapping, name)


def test_a_name_that_is_not_text_fails_as_before() -> None:
    mapping = chalice.app.CaseInsensitiveMapping({"Accept": "*/*"})
    name: Any = 1
    with pytest.raises(AttributeError):
        Mapping.get(mapping, name)
    with pytest.raises(AttributeError):
        header_lookup.get(mapping, name)
    with pytest.raises(AttributeError):
        header_lookup.contains(mapping, name)


def test_the_app_installs_them_on_chalices_class() -> None:
    import app  # noqa: F401 - the import installs them

    headers = chalice.app.CaseInsensitiveMapping({"If-None-Match": '"3"'})
    assert type(headers).get is header_lookup.get
    assert type(headers).__contains__ is header_lookup.contains
    assert headers.get("if-none-match") == '"3"'
    assert "IF-NONE-MATCH" in headers
    assert headers.get("accept") is None
