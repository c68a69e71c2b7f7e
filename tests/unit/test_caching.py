"""Cache-Control by route: only listed public reads may be stored; everything else no-store."""

from __future__ import annotations

import pytest

from chalicelib.api.caching import LIST_PAGE, NO_STORE, REVALIDATE, cache_control


def test_a_product_read_is_public_and_revalidated() -> None:
    assert cache_control("GET", "/products/{product_id}", 200) == REVALIDATE
    assert cache_control("GET", "/products/{product_id}", 304) == REVALIDATE


def test_a_list_page_may_be_shared_by_a_cdn_for_one_second_only() -> None:
    assert cache_control("GET", "/products", 200) == LIST_PAGE == "public, max-age=0, s-maxage=1"
    assert cache_control("GET", "/products", 400) == NO_STORE


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
def test_everything_not_listed_is_no_store(method: str, route: str) -> None:
    assert cache_control(method, route, 200) == NO_STORE


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_errors_are_never_stored(status: int) -> None:
    assert cache_control("GET", "/products/{product_id}", status) == NO_STORE
