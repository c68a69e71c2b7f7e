"""GET /docs and its assets, in-process: types, headers, vendored bytes, Lambda response size."""

from __future__ import annotations

import hashlib
import json

import pytest
from chalice.test import Client

from app import app
from bench.lambda_sim import FakeLambdaContext, proxy_event
from chalicelib.api import docs
from tools import vendor_swagger_ui

LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024  # synchronous invocation payload


@pytest.mark.parametrize(
    ("path", "content_type", "cache_control"),
    [
        ("/docs", "text/html; charset=utf-8", "public, max-age=300"),
        ("/docs/swagger-initializer.js", "text/javascript; charset=utf-8", "public, max-age=300"),
        ("/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8", "public, max-age=86400"),
        ("/docs/swagger-ui.css", "text/css; charset=utf-8", "public, max-age=86400"),
    ],
)
def test_docs_files_are_served_with_their_types(
    client: Client, path: str, content_type: str, cache_control: str
) -> None:
    response = client.http.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == cache_control
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_loads_only_from_its_own_origin(client: Client) -> None:
    response = client.http.get("/docs")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert b"http" not in response.body  # no absolute URL: nothing from another host
    assert b"<script>" not in response.body  # no inline script (the CSP would refuse it)


def test_vendored_files_are_the_pinned_package_s_bytes() -> None:
    manifest = (docs.VENDOR / vendor_swagger_ui.MANIFEST).read_text(encoding="utf-8").splitlines()
    assert manifest[0] == f"# swagger-ui-dist {vendor_swagger_ui.VERSION} ({vendor_swagger_ui.INTEGRITY})"
    sums = {name: digest for digest, name in (line.split("  ", 1) for line in manifest[1:])}
    assert set(sums) == set(vendor_swagger_ui.FILES)
    for name, digest in sums.items():
        assert hashlib.sha256((docs.VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_the_bundle_goes_through_the_lambda_handler_as_text_within_the_limit() -> None:
    # Given the request API Gateway hands the function for the biggest file
    event = proxy_event({"path": "/docs/swagger-ui-bundle.js"})
    # When the handler answers it
    response = app(event, FakeLambdaContext())
    # Then it is text (not base64), whole, and its JSON encoding fits Lambda's response limit
    assert response["statusCode"] == 200
    assert not response.get("isBase64Encoded")
    assert response["body"] == (docs.VENDOR / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    assert len(json.dumps(response).encode()) < LAMBDA_RESPONSE_LIMIT // 2


def test_the_document_describes_the_docs_page_not_its_files_and_the_304(client: Client) -> None:
    paths = json.loads(client.http.get("/openapi.json").body)["paths"]
    media = {path: set(paths[path]["get"]["responses"]["200"]["content"]) for path in paths if "docs" in path}
    assert media == {"/docs": {"text/html"}}  # Swagger UI's files are served, not operations
    not_modified = paths["/products/{product_id}"]["get"]["responses"]["304"]
    assert "content" not in not_modified


def test_docs_with_a_trailing_slash_redirects_to_docs(client: Client) -> None:
    # /docs/ is routed to the page, whose relative asset URLs would resolve to /docs/docs/…
    response = client.http.get("/docs/")
    assert response.status_code == 301
    assert response.headers["Location"] == "../docs"
    assert client.http.get("/docs").status_code == 200


def test_the_redirect_keeps_the_stage_prefix_in_lambda() -> None:
    # Given the deployed shape: the gateway's path carries the stage (/api/docs/)
    event = proxy_event({"path": "/docs/", "resource": "/docs"})
    response = app(event, FakeLambdaContext())
    # Then ../docs, resolved against /api/docs/, is /api/docs
    assert response["statusCode"] == 301
    assert response["headers"]["Location"] == "../docs"
