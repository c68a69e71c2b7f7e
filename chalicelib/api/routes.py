"""The one route table: each route is declared once, where its view is defined.

    @bp.operation("PATCH", "/products/{product_id}", "Update a product (owner or admin; If-Match)",
                  body=ProductUpdate, response=ProductPublic, auth=jwt_auth,
                  errors=(400, 403, 404, 412), headers={"If-Match": "..."})
    def update_product(product_id: str) -> Response: ...

The declaration registers the view with Chalice (path, method, authorizer) and records
an `Operation` here; `/openapi.json` is built from these records (api/openapi.py), so
the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Operation:
    """One route: what Chalice registers, and what OpenAPI documents."""

    method: str  # lower case, as OpenAPI writes it
    path: str
    summary: str
    ok: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    auth: bool = False
    errors: tuple[int, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"  # of the success response (/docs serves HTML, JS, CSS)
    not_modified: bool = False  # answers If-None-Match with 304
    authorizer: Any = field(default=None, compare=False, repr=False)


OPERATIONS: list[Operation] = []
# The modules that declare routes (app.py registers their blueprints). The OpenAPI document
# imports them all, so it is complete even where app.py is not imported (tools/openapi_release).
ROUTE_MODULES = ("accounts", "docs", "health", "openapi", "orders", "products", "sessions", "users")


def declare(operation: Operation) -> Operation:
    """Record a route (once: declaring a method and path twice is a programming error)."""
    if any((o.method, o.path) == (operation.method, operation.path) for o in OPERATIONS):
        raise ValueError(f"{operation.method.upper()} {operation.path} is declared twice")
    OPERATIONS.append(operation)
    return operation


def all_operations() -> tuple[Operation, ...]:
    """Every declared route of the app (importing the modules that declare them)."""
    for name in ROUTE_MODULES:
        importlib.import_module(f"chalicelib.api.{name}")
    return tuple(OPERATIONS)
