"""Cache-Control by route: only routes whose declaration names a policy may be stored;
everything else is no-store."""

from __future__ import annotations

import pytest

from chalicelib.api import routes
from chalicelib.api.caching import DOCS, LIST_PAGE, NO_STORE, REVALIDATE, STATIC_ASSET, cache_control

routes.all_operations()


def policy(method: str, route: str, status: int = 200) -> str:
    return cache_control(method, routes.find(method, route), status)


def test_the_declarations_name_exactly_these_stored_routes() -> None:
    stored = {op.path: op.cache for op in routes.all_operations() if op.cache}
    assert stored == {
        "/products": LIST_PAGE,
        "/products/{product_id}": REVALIDATE,
        "/openapi.json": DOCS,
        "/docs": DOCS,
        "/docs/swagger-initializer.js": DOCS,
        "/docs/swagger-ui.css": STATIC_ASSET,
        "/docs/swagger-ui-bundle.js": STATIC_ASSET,
    }


def test_a_product_read_is_public_and_revalidated() -> None:
    assert policy("GET", "/products/{product_id}", 200) == REVALIDATE
    assert policy("GET", "/products/{product_id}", 304) == REVALIDATE


def test_a_list_page_may_be_shared_by_a_cdn_for_one_second_only() -> None:
    assert policy("GET", "/products", 200) == LIST_PAGE == "public, max-age=0, s-maxage=1"
    assert policy("GET", "/products", 400) == NO_STORE


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("POST", "/auth/token"),
        ("POST", "/auth/refresh"),  # session routes, including ones not written yet: no-store by default
        ("POST", "/auth/logout"),
        ("POST", "/auth/logout-all"),
        ("GET", "/users/me"),
        ("GET", "/users/{user_id}"),
        ("GET", "/orders"),
        ("GET", "/orders/{order_id}"),
        ("POST", "/products"),
        ("GET", "/health"),
        ("GET", ""),  # a request chalice answered before routing
    ],
)
def test_everything_not_declared_cacheable_is_no_store(method: str, route: str) -> None:
    assert policy(method, route, 200) == NO_STORE


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_errors_are_never_stored(status: int) -> None:
    assert policy("GET", "/products/{product_id}", status) == NO_STORE
