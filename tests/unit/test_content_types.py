"""chalice's content-type matching, answered from memory, answers as chalice does."""

from __future__ import annotations

import chalice.app
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.api import content_types
from chalicelib.api.content_types import LONGEST_KEPT, matches_content_type

_pieces = st.sampled_from(
    ["application/json", "APPLICATION/JSON", "text/html", "*/*", "image/*", "charset=utf-8", "q=0.9", ""]
)
_header = st.lists(_pieces | st.text(alphabet="ab/*;, J", max_size=8), max_size=4).flatmap(
    lambda parts: st.sampled_from([",", ";", ", ", " ; "]).map(lambda sep: sep.join(parts))
)
_valid = st.lists(_pieces | st.text(alphabet="ab/*J", max_size=6), max_size=3)


@given(header=_header, valid=_valid)
def test_the_answer_is_chalices(header: str, valid: list[str]) -> None:
    original = content_types._chalice_matches
    assert matches_content_type(header, valid) == original(header, valid)
    assert matches_content_type(header, valid) == original(header, valid)  # kept


def test_the_app_installs_it_where_chalice_looks_it_up() -> None:
    import app  # noqa: F401 - the import installs it

    assert chalice.app._matches_content_type is matches_content_type
    assert content_types._chalice_matches is not matches_content_type


def test_a_long_header_is_answered_but_not_kept() -> None:
    content_types._kept.cache_clear()
    long_header = "application/json;" + "x" * LONGEST_KEPT
    assert matches_content_type(long_header, ["application/json"]) is True
    assert content_types._kept.cache_info().currsize == 0
    assert matches_content_type("application/json", ["application/json"]) is True
    assert content_types._kept.cache_info().currsize == 1
