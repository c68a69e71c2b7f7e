"""Lazy route modules behind the one route table: a cold start imports only the module of
the route it serves.

Routes are declared once, on their views (`bp.operation`, api/routes.py). `make routes`
(tools/route_table.py) writes what Chalice needs to register each of them, and what the
middleware needs to know of it, into api/route_table.py; tests/unit/test_route_table.py
fails while that table differs from the declarations. app.py registers every route from
the table as a stand-in view that imports the route's module on its first call and hands
the call to the real view, so `GET /products/{id}` never imports orders, users or
accounts, and `chalice package` sees the same routes as before (method, path, view name,
docstring, authorizer, content types, CORS).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice, ChaliceUnhandledError


@dataclass(frozen=True)
class Route:
    """One route as Chalice registers it, and the facts of its declaration the middleware reads."""

    method: str  # upper case, as Chalice has it
    path: str
    module: str  # where the view is declared
    view: str  # the view function's name (Chalice's view name)
    doc: str | None = None  # its docstring: `chalice package` makes the method's summary from it
    authorizer: str | None = None  # the name of the authorizer that protects it
    api_key_required: bool | None = None
    content_types: tuple[str, ...] = ("application/json",)
    cors: bool = False  # Chalice's own CORS (off: api/cors.py answers preflights at request time)
    cache: str = ""  # Cache-Control of a successful GET (api/caching.py); "": no-store
    cross_origin: bool = True  # the declaration's `cors`: a cross-origin page may call it


def register(app: Chalice, table: Iterable[Route], authorizers: Mapping[str, Any]) -> None:
    """Register every route of the table with the app, each behind a stand-in view."""
    for route in table:
        options: dict[str, Any] = {
            "methods": [route.method],
            "name": route.view,
            "content_types": list(route.content_types),
            "cors": route.cors,
        }
        if route.authorizer is not None:
            options["authorizer"] = authorizers[route.authorizer]
        if route.api_key_required is not None:
            options["api_key_required"] = route.api_key_required
        app.route(route.path, **options)(stand_in(app, route))


def stand_in(app: Chalice, route: Route) -> Callable[..., Any]:
    """The view Chalice calls for `route`: it loads the real view on first use and calls it
    with the path parameters. Whatever either raises travels as the cause of a
    ChaliceUnhandledError, as ApiBlueprint's views do, so the middleware maps it."""

    def view(**path_params: str) -> Any:
        try:
            return load(app, route.module, route.view)(**path_params)
        except Exception as exc:
            raise ChaliceUnhandledError("view raised") from exc

    view.__name__ = view.__qualname__ = route.view
    view.__module__ = route.module
    view.__doc__ = route.doc
    return view


@functools.cache
def load(app: Chalice, module_name: str, view: str) -> Callable[..., Any]:
    """The real view: its module imported and its blueprint bound to the app (so that
    `bp.current_request` and `bp.current_app` work as for a registered blueprint)."""
    module = importlib.import_module(module_name)
    blueprint = getattr(module, "bp", None)
    bind = getattr(blueprint, "serve_from", None)
    if bind is not None:
        bind(app)
    real: Callable[..., Any] = getattr(module, view)
    return real


def load_all(app: Chalice, table: Iterable[Route]) -> list[str]:
    """Import every route's module now (SnapStart: before the snapshot, so that a restored
    function pays no import on any route); the modules loaded."""
    routes = tuple(table)
    for route in routes:
        load(app, route.module, route.view)
    return sorted({route.module for route in routes})


@functools.cache
def _index() -> dict[tuple[str, str], Route]:
    from chalicelib.api.route_table import ROUTES

    return {(route.method, route.path): route for route in ROUTES}


def find(method: str, path: str) -> Route | None:
    """The app's route for `method path` (a template such as /products/{product_id}), if any."""
    return _index().get((method.upper(), path))
