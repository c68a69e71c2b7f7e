"""CORS preflight: an OPTIONS route for every path, answered from settings at request time.

API Gateway (REST) has no automatic preflight, and chalice's own CORS support fixes the
origin at import time; these routes read `CORS_ALLOW_ORIGIN` when a request runs. They
have no authorizer (browsers send preflights without credentials). The middleware adds
`Access-Control-Allow-Origin` to every response, these included.
"""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import Chalice, Response

from chalicelib.api.headers import ALLOWED_HEADERS, MAX_AGE_SECONDS
from chalicelib.config import get_settings


def preflight_headers(allowed_methods: str) -> dict[str, str | list[str]]:
    """The answer to a preflight: what may be sent, if cross-origin calls are allowed at all."""
    headers: dict[str, str | list[str]] = {"Allow": allowed_methods}
    if get_settings().cors_allow_origin:
        headers.update(
            {
                "Access-Control-Allow-Methods": allowed_methods,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
            }
        )
    return headers


def _view(allowed_methods: str) -> Callable[..., Response]:
    def preflight(**_path_params: str) -> Response:
        return Response(body="", status_code=204, headers=preflight_headers(allowed_methods))

    return preflight


def register_preflight(app: Chalice) -> None:
    """Add an OPTIONS route to every path that has none (call after the blueprints)."""
    for index, (path, methods) in enumerate(sorted(app.routes.items())):
        if "OPTIONS" not in methods:
            allowed = ", ".join(sorted({*methods, "OPTIONS"}))
            app.route(path, methods=["OPTIONS"], name=f"preflight_{index}")(_view(allowed))
