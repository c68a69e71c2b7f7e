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

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    tag: str = ""  # the group in /docs and in the generated client (auth, users, products, …)
    cache: str = ""  # Cache-Control of a successful GET (api/caching.py); "": no-store
    documented: bool = True  # False: served, but not an API operation (Swagger UI's files)
    cors: bool = True  # a cross-origin page may call it (Access-Control-Allow-Origin)


OPERATIONS: dict[tuple[str, str], Operation] = {}


def declare(operation: Operation) -> Operation:
    """Record a route (once: declaring a method and path twice is a programming error)."""
    if (operation.method, operation.path) in OPERATIONS:
        raise ValueError(f"{operation.method.upper()} {operation.path} is declared twice")
    OPERATIONS[(operation.method, operation.path)] = operation
    return operation


def find(method: str, path: str) -> Operation | None:
    """The declaration of `method path` (a route template such as /products/{product_id}),
    wherever it is declared (every route module is imported first, as all_operations does)."""
    all_operations()
    return OPERATIONS.get((method.lower(), path))


def all_operations() -> tuple[Operation, ...]:
    """Every declared route of the app, also where app.py is not imported (tools/openapi_release):
    every module of this package is imported, so no list of route modules is kept anywhere."""
    _import_every_module()
    return tuple(OPERATIONS.values())


@functools.cache
def _import_every_module() -> None:
    import chalicelib.api as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
