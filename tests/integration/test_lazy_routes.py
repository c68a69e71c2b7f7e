"""A cold start imports only what the route it serves needs (api/lazy_routes.py): fresh
interpreters, as Lambda starts them, against the real engine."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from chalicelib.api.route_table import ROUTES
from chalicelib.models.products import ProductCreate
from chalicelib.services.products import create_product
from chalicelib.store.table import Table
from tests.helpers import as_caller, run_python

ROOT = Path(__file__).resolve().parents[2]
ROUTE_MODULES = sorted({route.module for route in ROUTES})
# What only other routes need: none of it is on the path of a product read. (The event
# catalogue the product store imports names the order and user models without importing them.)
NOT_FOR_A_PRODUCT_READ = (
    "chalicelib.services.orders",
    "chalicelib.services.users",
    "chalicelib.services.accounts",
    "chalicelib.models.orders",
    "chalicelib.models.accounts",
    "chalicelib.store.orders",
)

PROBE = """
import gc, json, sys
import app
from bench.lambda_sim import FakeLambdaContext, proxy_event
loaded = {"import": sorted(m for m in sys.modules if m.startswith("chalicelib"))}
for step in json.loads(sys.argv[1]):
    response = app.app(proxy_event(step), FakeLambdaContext())
    ours = sorted(m for m in sys.modules if m.startswith("chalicelib"))
    loaded[step["path"]] = [response["statusCode"], ours]
    loaded["gc"] = [gc.isenabled(), gc.get_freeze_count()]
if len(sys.argv) > 2:
    from chalicelib import snapstart
    snapstart.before_snapshot()
    from chalicelib.models.products import ProductPublic
    loaded["snapshot"] = [ProductPublic.__pydantic_complete__, sorted(sys.modules)]
print(json.dumps(loaded))
"""


def _probe(steps: list[dict[str, Any]], *extra: str) -> dict[str, Any]:
    """Run PROBE in a fresh interpreter (the test's engine and table): modules loaded when."""
    answer: dict[str, Any] = json.loads(run_python(PROBE, json.dumps(steps), *extra).splitlines()[-1])
    return answer


def _product(table: Table) -> str:
    body = ProductCreate.model_validate({"name": "Lamp", "price": Decimal("9.50")})
    return create_product(table, as_caller("seller-1"), body).id


def test_importing_the_app_imports_no_route_module(table: Table) -> None:
    loaded = set(_probe([])["import"])
    assert [m for m in ROUTE_MODULES if m in loaded] == []
    assert [m for m in NOT_FOR_A_PRODUCT_READ if m in loaded] == []
    assert "chalicelib.api.auth" in loaded  # the authorizer is part of the routes' registration


def test_a_product_read_imports_the_products_module_and_nothing_of_other_routes(table: Table) -> None:
    product_id = _product(table)
    path = f"/products/{product_id}"
    step = {"path": path, "resource": "/products/{product_id}", "path_params": {"product_id": product_id}}
    probed = _probe([step])
    status, loaded = probed[path]
    assert status == 200
    collecting, frozen = probed["gc"]
    assert collecting  # paused for the first request only
    assert frozen > 10_000  # what it built is out of the collector's sight
    assert [m for m in ROUTE_MODULES if m in loaded] == ["chalicelib.api.products"]
    assert [m for m in NOT_FOR_A_PRODUCT_READ if m in loaded] == []
    assert "chalicelib.models.events" in loaded  # the catalogue, without the models it names


def test_before_the_snapshot_every_route_module_is_imported_and_its_models_built(table: Table) -> None:
    complete, loaded = _probe([], "--snapshot")["snapshot"]
    assert [m for m in ROUTE_MODULES if m not in loaded] == []
    assert complete is True
