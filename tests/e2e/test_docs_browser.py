"""GET /docs in a real headless Chromium (Debian's `chromium`, driven by Playwright).

The page must render every operation of /openapi.json, load nothing from any other host,
and "Try it out" → Execute on GET /health must show the running API's 200.
`STOREFRONT_SCREENSHOT=docs/img/docs.png make e2e` refreshes the README's screenshot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A page in a fresh Chromium profile (the system browser; Playwright downloads nothing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium: `make browser` (run by make test) installs it only as root where apt works")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_docs_render_every_operation_and_try_it_out_reaches_the_api(live: str, page: Any) -> None:
    document = requests.get(f"{live}/openapi.json", timeout=20).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # When the docs page is opened
    page.goto(f"{live}/docs", wait_until="load")
    page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {operations}", timeout=15_000)

    # Then every operation of the document is on it, and everything came from the API itself
    assert page.locator(".opblock").count() == operations
    # each operation's path, matched exactly (Swagger UI keeps it in `data-path`)
    shown = page.locator(".opblock-summary [data-path]").evaluate_all("els => els.map(e => e.dataset.path)")
    assert sorted(shown) == sorted(path for path, methods in document["paths"].items() for _ in methods)
    product = page.locator('.opblock-summary [data-path="/products/{product_id}"]')
    assert product.count() == len(document["paths"]["/products/{product_id}"])
    assert all(url.startswith(live) for url in requested), requested
    assert errors == []

    # When GET /health is tried out
    health = page.locator("#operations-health-get_health")
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()

    # Then the live response of the running API is shown
    status = health.locator(".live-responses-table .response .response-col_status")
    status.first.wait_for(timeout=10_000)
    assert status.first.inner_text().strip() == "200"
    assert '"status": "ok"' in health.locator(".live-responses-table .microlight").first.inner_text()
    shot = os.environ.get("STOREFRONT_SCREENSHOT")
    if shot:
        page.set_viewport_size({"width": 1280, "height": 1500})
        page.screenshot(path=shot)


def test_docs_with_a_trailing_slash_ends_on_the_rendered_page(live: str, page: Any) -> None:
    # Given the address typed with a trailing slash (its assets used to resolve to /docs/docs/…)
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)

    # When it is opened
    page.goto(f"{live}/docs/", wait_until="load")

    # Then the browser lands on /docs and Swagger UI renders the operations, with no failed asset
    page.wait_for_function("document.querySelectorAll('.opblock').length > 0", timeout=15_000)
    assert page.url == f"{live}/docs"
    assert failed == []
