"""A fix for `chalice local` (the development server), applied only when it is running.

chalice local sends every response through one writer that adds `Content-Length` and a
default `Content-Type: application/json`, even to a 204 or a 304. RFC 9110 forbids
Content-Length on a 204 (8.6) and on a 304 unless it is the 200's length, and a 304
carries no representation metadata (15.4.5): a cache could take `Content-Length: 0`
as the new length of the stored product. In Lambda the handler returns the headers the
app set (none of these), so this concerns chalice local alone.
"""

from __future__ import annotations

import sys
from typing import Any

BODILESS = frozenset({204, 304})
_DROPPED = frozenset({"content-type", "content-length"})


def bodiless_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """The headers of a 204/304 without Content-Type and Content-Length."""
    return {name: value for name, value in headers.items() if name.lower() not in _DROPPED}


def fix_chalice_local() -> bool:
    """Make chalice local send 204 and 304 with no body, Content-Type or Content-Length.

    Does nothing (False) unless chalice's local server module is loaded: the `chalice local`
    command imports it before it imports app.py; Lambda never imports it.
    """
    local = sys.modules.get("chalice.local")
    if local is None:
        return False
    handler = local.ChaliceRequestHandler
    if getattr(handler, "_storefront_bodiless", False):
        return True
    send_any = handler._send_http_response

    def send(self: Any, code: int, headers: dict[str, Any], body: str | bytes | None) -> None:
        if code not in BODILESS:
            send_any(self, code, headers, body)
            return
        self.send_response(code)
        self._send_headers(bodiless_headers(headers))

    handler._send_http_response = send
    handler._storefront_bodiless = True
    return True
