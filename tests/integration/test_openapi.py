"""GET /openapi.json describes exactly the app's routes, with the models that validate them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from openapi_spec_validator import validate
from pydantic import BaseModel

from app import app
from chalicelib.api import routes
from chalicelib.models.orders import OrderCreate
from chalicelib.models.products import ProductCreate
from tests.helpers import json_body

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "docs" / "openapi.json"


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    doc: dict[str, Any] = json_body(response)
    return doc


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    routed = {
        (method, path) for path, methods in app.routes.items() for method in methods if method != "OPTIONS"
    }
    assert documented == routed


def test_protected_routes_declare_bearer_auth(document: dict[str, Any]) -> None:
    protected = {
        (method.upper(), path)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if entry.authorizer is not None
    }
    declared = {
        (method.upper(), path)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if op.get("security")
    }
    assert declared == protected


@pytest.mark.parametrize(("path", "model"), [("/products", ProductCreate), ("/orders", OrderCreate)])
def test_request_schemas_come_from_the_validating_models(
    document: dict[str, Any], path: str, model: type[BaseModel]
) -> None:
    ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == set(model.model_json_schema()["properties"])
    assert schema.get("additionalProperties") is False


def test_price_is_documented_as_a_number_with_two_decimals(document: dict[str, Any]) -> None:
    price = document["components"]["schemas"]["ProductPublic"]["properties"]["price"]
    assert price["type"] == "number"
    assert price["multipleOf"] == 0.01


def test_errors_reference_the_one_envelope(document: dict[str, Any]) -> None:
    envelope = document["components"]["schemas"]["ErrorBody"]
    assert {"error", "code", "request_id"} <= set(envelope["required"])
    not_found = document["paths"]["/products/{product_id}"]["get"]["responses"]["404"]
    assert not_found["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_the_released_document_is_the_one_the_app_serves(document: dict[str, Any]) -> None:
    # docs/openapi.json is what clients were given; `make openapi` refreshes it (and refuses an
    # unrecorded breaking change, tools/openapi_diff.py). A route or field changed without that
    # step fails here, whether it is additive or not.
    released = json.loads(RELEASED.read_text(encoding="utf-8"))
    assert document == released, "docs/openapi.json is stale: run `make openapi`"


def test_a_route_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        routes.declare(routes.Operation("get", "/health", "Liveness again"))


def test_the_document_is_complete_without_importing_the_app() -> None:
    # tools/openapi_release builds the document from chalicelib alone: it must still see
    # every route the app serves (api/routes.ROUTE_MODULES names the modules that declare them).
    script = (
        "import json; from chalicelib.api.openapi import document_text; "
        "print(json.dumps(sorted((m.upper(), p) for p, ops in "
        "json.loads(document_text('0')).get('paths', {}).items() for m in ops)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    routed = sorted(
        [method, path] for path, methods in app.routes.items() for method in methods if method != "OPTIONS"
    )
    assert json.loads(out) == routed
