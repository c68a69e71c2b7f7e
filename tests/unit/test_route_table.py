"""The route table app.py registers (api/route_table.py) is the declarations', and the
routes Chalice gets from it are the ones it got when app.py registered every blueprint:
same methods, paths, view names, docstrings (`chalice package` makes the summaries from
them), authorizers, content types and CORS. A stand-in view loads its module on first use."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.app import Chalice, ChaliceUnhandledError, CORSConfig, RouteEntry
from chalice.deploy.swagger import TemplatedSwaggerGenerator
from chalice.test import Client

from app import app
from chalicelib.api import lazy_routes, route_table
from chalicelib.api.cors import register_preflight
from chalicelib.api.lazy_routes import Route
from tools import route_table as generator


def test_the_committed_table_is_the_declarations() -> None:
    # Fails after a route is added, removed or changed without `make routes`.
    assert generator.declared_routes() == route_table.ROUTES
    assert generator.main(["--check"]) == 0


def test_a_stale_table_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    stale = route_table.ROUTES[:-1]
    assert generator.is_current(stale) is False
    assert generator.report(stale) == 1
    assert "make routes" in capsys.readouterr().err


def test_the_rendered_module_reads_back_as_the_same_table() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(generator.render(route_table.ROUTES), "route_table.py", "exec"), namespace)  # noqa: S102
    assert namespace["ROUTES"] == route_table.ROUTES


def _registration(chalice_app: Chalice) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (method, path): (
            entry.view_name,
            inspect.getdoc(entry.view_function),
            entry.authorizer.name if entry.authorizer else None,
            entry.api_key_required,
            entry.content_types,
            entry.cors,
            entry.view_args,
        )
        for path, methods in chalice_app.routes.items()
        for method, entry in methods.items()
        if method != "OPTIONS"
    }


def test_the_app_registers_every_declared_route_as_the_blueprints_did() -> None:
    declared = generator.declared_app()
    assert _registration(app) == _registration(declared)
    assert list(app.routes) == list(declared.routes)  # the same order in the template


def test_every_stand_in_loads_the_view_its_route_declares() -> None:
    declared = generator.declared_app().routes
    for route in route_table.ROUTES:
        real = inspect.unwrap(declared[route.path][route.method].view_function)
        assert lazy_routes.load(app, route.module, route.view) is real, route


def test_the_packaged_api_is_the_one_the_blueprints_made() -> None:
    # What `chalice package` writes for the REST API (paths, methods, summaries, authorizers).
    eager = Chalice(app_name="storefront")
    eager.api.binary_types = []
    for path, methods in generator.declared_app().routes.items():
        eager.routes[path].update(methods)
    register_preflight(eager)
    swagger = TemplatedSwaggerGenerator()
    packaged = swagger.generate_swagger(app)
    assert packaged == swagger.generate_swagger(eager)
    # Every body is text: the API declares no binary media types (app.py).
    assert packaged["x-amazon-apigateway-binary-media-types"] == []


def test_only_default_chalice_cors_can_be_tabled() -> None:
    def view() -> None:
        """A view."""

    entry = RouteEntry(view, "view", "/health", "GET", cors=CORSConfig(allow_origin="https://a.example"))
    with pytest.raises(ValueError, match="cors"):
        generator.route_of(entry)
    with pytest.raises(ValueError, match="not declared"):
        generator.route_of(RouteEntry(view, "view", "/nowhere", "GET"))


# --- stand-ins: a module loaded on the first call, its blueprint bound to the app ----------


FAKE_MODULE = '''
from chalicelib.api.http import ApiBlueprint

bp = ApiBlueprint(__name__)


def echo(item_id: str) -> dict[str, str]:
    """Echo the path parameter and a header."""
    if item_id == "boom":
        raise LookupError("boom")
    return {"id": item_id, "header": bp.current_request.headers.get("x-probe", "")}
'''


@pytest.fixture
def fake_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A route module on the path, not imported yet: `tests_fake_routes`, with one view."""
    (tmp_path / "tests_fake_routes.py").write_text(FAKE_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "tests_fake_routes"
    sys.modules.pop("tests_fake_routes", None)
    lazy_routes.load.cache_clear()


def _tiny_app() -> Chalice:
    tiny = Chalice(app_name="tiny")  # no middleware: the blueprint's own current_request is used
    route = Route(method="GET", path="/items/{item_id}", module="tests_fake_routes", view="echo", doc="Echo.")
    lazy_routes.register(tiny, [route], authorizers={})
    return tiny


def test_a_stand_in_loads_its_module_on_the_first_call(fake_module: str) -> None:
    tiny = _tiny_app()
    assert fake_module not in sys.modules
    with Client(tiny) as client:
        first = client.http.get("/items/a1", headers={"x-probe": "yes"})
        assert fake_module in sys.modules
        second = client.http.get("/items/b2")
    assert (first.json_body, second.json_body) == ({"id": "a1", "header": "yes"}, {"id": "b2", "header": ""})
    assert sys.modules[fake_module].bp.current_app is tiny  # bound, as a registered blueprint is
    entry = tiny.routes["/items/{item_id}"]["GET"]
    assert (entry.view_name, inspect.getdoc(entry.view_function)) == ("echo", "Echo.")


def test_what_a_real_view_raises_reaches_the_middleware_as_its_cause(fake_module: str) -> None:
    view = lazy_routes.stand_in(_tiny_app(), Route("GET", "/items/{item_id}", fake_module, "echo"))
    with pytest.raises(ChaliceUnhandledError) as raised:
        view(item_id="boom")
    assert isinstance(raised.value.__cause__, LookupError)


def test_a_route_module_that_cannot_load_is_an_error_of_the_request() -> None:
    view = lazy_routes.stand_in(Chalice(app_name="x"), Route("GET", "/x", "tests_no_such_module", "x"))
    with pytest.raises(ChaliceUnhandledError) as raised:
        view()
    assert isinstance(raised.value.__cause__, ModuleNotFoundError)


def test_the_middleware_reads_each_routes_declared_facts_from_the_table() -> None:
    product = lazy_routes.find("get", "/products/{product_id}")
    assert product is not None
    assert product.cache == "public, max-age=0, must-revalidate"
    assert lazy_routes.find("GET", "/docs/swagger-ui.css") is not None
    assert lazy_routes.find("OPTIONS", "/products") is None  # preflights are not declared routes
