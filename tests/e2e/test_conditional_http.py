"""Conditional GET and caching headers over real HTTP (`chalice local`)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
import requests

from tests.helpers import bearer

pytestmark = pytest.mark.e2e


def raw_get(base: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and body bytes exactly as the server sent them."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=20)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_chalice_local_sends_a_clean_304(live: str) -> None:
    # Given a product at version 1
    created = requests.post(
        f"{live}/products", data=b'{"name": "Mug", "price": 1}', headers=bearer("u-304"), timeout=20
    )
    path = created.headers["Location"]
    # When a client revalidates it with the ETag it holds (weak form, as CDNs send it)
    status, headers, body = raw_get(live, path, **{"If-None-Match": 'W/"1"'})
    # Then: 304, the ETag and Cache-Control, and no body or body description
    assert (status, body) == (304, b"")
    assert headers["etag"] == '"1"'
    assert headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert "content-type" not in headers
    assert "content-length" not in headers


def test_chalice_local_sends_a_204_without_content_length(live: str) -> None:
    created = requests.post(
        f"{live}/products", data=b'{"name": "Mug", "price": 1}', headers=bearer("u-204"), timeout=20
    )
    url = urlsplit(live)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=20)
    try:
        conn.request("DELETE", created.headers["Location"], headers=bearer("u-204"))
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        assert (response.status, response.read()) == (204, b"")
    finally:
        conn.close()
    assert "content-length" not in headers
    assert headers["cache-control"] == "no-store"
