"""Cache-Control for every response, decided here by route (the middleware applies it).

Only the routes listed below may be stored by a shared cache (a CDN, API Gateway's cache, a
proxy); everything else — users, orders, tokens, sessions, health, and any route added
later — is `no-store` unless it is added here on purpose. Errors are never stored.
"""

from __future__ import annotations

NO_STORE = "no-store"
# Store, but ask the origin every time (If-None-Match → 304 for one product): a product
# read is public, and its stock and price change, so no stale copy is ever served.
REVALIDATE = "public, max-age=0, must-revalidate"
# A page of the product list: browsers ask every time, a shared cache (CDN) may serve it to
# everyone for one second — as stale as a container's own page cache (LIST_CACHE_SECONDS).
LIST_PAGE = "public, max-age=0, s-maxage=1"
DOCS = "public, max-age=300"
STATIC_ASSET = "public, max-age=86400"

PUBLIC_READS: dict[str, str] = {
    "/products": LIST_PAGE,
    "/products/{product_id}": REVALIDATE,
    "/openapi.json": DOCS,
    "/docs": DOCS,
    "/docs/swagger-initializer.js": DOCS,
    "/docs/swagger-ui.css": STATIC_ASSET,
    "/docs/swagger-ui-bundle.js": STATIC_ASSET,
}


def cache_control(method: str, route: str, status: int) -> str:
    """The Cache-Control of a response to `method route` with this status."""
    if method != "GET" or status >= 400:
        return NO_STORE
    return PUBLIC_READS.get(route, NO_STORE)
