"""GET /docs: Swagger UI for /openapi.json, every byte served by the API itself.

Swagger UI's script and styles are the npm package swagger-ui-dist, vendored by
`make swagger-ui` (pinned version and checksum, tools/vendor_swagger_ui.py) into
chalicelib/vendor/swagger-ui/, so the page works offline, behind firewalls and under a
Content-Security-Policy that allows this origin only. All of it is text (JS, CSS, HTML):
API Gateway passes it through without binary media types, and the largest file, JSON-
encoded in the Lambda response, stays far below Lambda's 6 MB response limit.
"""

from __future__ import annotations

import functools
from pathlib import Path

from chalice.app import Response

from chalicelib.api.caching import DOCS, STATIC_ASSET
from chalicelib.api.http import ApiBlueprint

bp = ApiBlueprint(__name__, tag="docs")

VENDOR = Path(__file__).resolve().parent.parent / "vendor" / "swagger-ui"
HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"
# Everything from this origin; inline styles only because Swagger UI sets element styles.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# Relative URLs: under a stage prefix (/dev/docs) they resolve to /dev/docs/… as well.
# The empty icon keeps the browser from asking for /favicon.ico, a route the API has not.
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Storefront API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/swagger-initializer.js"></script>
</body>
</html>
"""

# The document names no server; "Try it out" must call the API that serves this page,
# stage prefix included, so the page sets the server to where it was loaded from.
INITIALIZER = """"use strict";
(function () {
  var base = window.location.pathname.replace(/\\/docs\\/?$/, "");
  fetch(base + "/openapi.json")
    .then(function (response) { return response.json(); })
    .then(function (spec) {
      spec.servers = [{ url: window.location.origin + base, description: "This API" }];
      window.ui = SwaggerUIBundle({
        spec: spec,
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        displayRequestDuration: true,
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout"
      });
    });
})();
"""


@functools.cache
def vendored(name: str) -> str:
    """A vendored Swagger UI file as text (read once per container)."""
    return (VENDOR / name).read_text(encoding="utf-8")


def _text(body: str, content_type: str, **headers: str) -> Response:
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": content_type, "X-Content-Type-Options": "nosniff", **headers},
    )


@bp.operation(
    "GET",
    "/docs",
    "Interactive documentation of this document (Swagger UI)",
    media_type="text/html",
    cache=DOCS,
)
def docs_page() -> Response:
    """Interactive documentation of /openapi.json (Swagger UI); /docs/ redirects to /docs."""
    # API Gateway and chalice local route /docs/ here too, but the page's relative asset
    # URLs (docs/…, kept relative for the stage prefix) would then resolve to /docs/docs/….
    if str((bp.current_request.context or {}).get("path", "")).endswith("/docs/"):
        return redirect_to_docs()
    return _text(PAGE, HTML, **{"Content-Security-Policy": CSP})


def redirect_to_docs() -> Response:
    """301 from /docs/ to /docs. The Location is relative (`../docs`), so it keeps whatever
    stage prefix the request came through (/dev/docs/ → /dev/docs)."""
    return Response(body="", status_code=301, headers={"Location": "../docs"})


@bp.operation(
    "GET",
    "/docs/swagger-initializer.js",
    "Starts Swagger UI on this document",
    media_type="text/javascript",
    cache=DOCS,
    documented=False,
)
def docs_initializer() -> Response:
    """The script that starts Swagger UI on /openapi.json."""
    return _text(INITIALIZER, JAVASCRIPT)


@bp.operation(
    "GET",
    "/docs/swagger-ui-bundle.js",
    "Swagger UI's script",
    media_type="text/javascript",
    cache=STATIC_ASSET,
    documented=False,
)
def docs_bundle() -> Response:
    """Swagger UI's script (swagger-ui-dist, vendored)."""
    return _text(vendored("swagger-ui-bundle.js"), JAVASCRIPT)


@bp.operation(
    "GET",
    "/docs/swagger-ui.css",
    "Swagger UI's styles",
    media_type="text/css",
    cache=STATIC_ASSET,
    documented=False,
)
def docs_css() -> Response:
    """Swagger UI's styles (swagger-ui-dist, vendored)."""
    return _text(vendored("swagger-ui.css"), CSS)
