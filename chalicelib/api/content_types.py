"""chalice's content-type matching, answered from memory.

chalice matches each request's Content-Type against its route's content types, and each
response's Content-Type and the request's Accept against the API's binary media types:
three calls of `chalice.app._matches_content_type` a request, each lowering both texts and
splitting the header with a regular expression. Its answer depends only on its two
arguments, and they repeat from one request to the next ("application/json"), so the
answers to the last 256 distinct pairs are kept. After the wait for DynamoDB, when little
of the process is still in the CPU's caches, that is ~30 µs of a GET (bench/ab.py).

chalice's function is replaced in its module, where its callers look it up (`install`,
called by app.py); tests/unit/test_content_types.py holds the answers to chalice's for
any header and checks that the app installs it.
"""

from __future__ import annotations

import functools

import chalice.app

_chalice_matches = chalice.app._matches_content_type
KEPT = 256
# A longer header is answered but not kept: 256 kept pairs stay a few hundred KiB.
LONGEST_KEPT = 256


@functools.lru_cache(maxsize=KEPT)
def _kept(content_type: str, valid_content_types: tuple[str, ...]) -> bool:
    return _chalice_matches(content_type, list(valid_content_types))


def matches_content_type(content_type: str, valid_content_types: list[str]) -> bool:
    """chalice's answer: does this Content-Type (or Accept) header name one of these types."""
    if len(content_type) > LONGEST_KEPT:
        return _chalice_matches(content_type, valid_content_types)
    return _kept(content_type, tuple(valid_content_types))


def install() -> None:
    """Answer chalice's content-type matching from memory (idempotent)."""
    chalice.app._matches_content_type = matches_content_type
