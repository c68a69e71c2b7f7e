"""Cache-Control for every response: the policies, and the rule the middleware applies.

A route's policy is a fact of its one declaration (`bp.operation(..., cache=...)`); a route
that names none — users, orders, tokens, sessions, health, and any route added later — is
`no-store`. Only a successful GET may be stored by a shared cache (a CDN, API Gateway's
cache, a proxy); errors are never stored.
"""

from __future__ import annotations

from typing import Protocol

NO_STORE = "no-store"
# Store, but ask the origin every time (If-None-Match → 304 for one product): a product
# read is public, and its stock and price change, so no stale copy is ever served.
REVALIDATE = "public, max-age=0, must-revalidate"
# A page of the product list: browsers ask every time, a shared cache (CDN) may serve it to
# everyone for one second — as stale as a container's own page cache (LIST_CACHE_SECONDS).
LIST_PAGE = "public, max-age=0, s-maxage=1"
DOCS = "public, max-age=300"
STATIC_ASSET = "public, max-age=86400"


class Declared(Protocol):
    """A route's declaration (routes.Operation), or the route table's copy of it (lazy_routes.Route)."""

    @property
    def cache(self) -> str:
        """The declared policy ("": none)."""


def cache_control(method: str, operation: Declared | None, status: int) -> str:
    """The Cache-Control of a response to `method` on this route (None: no declared route)."""
    if method != "GET" or status >= 400 or operation is None:
        return NO_STORE
    return operation.cache or NO_STORE
