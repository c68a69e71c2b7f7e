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


def _operations_served() -> set[tuple[str, str]]:
    """(METHOD, path) of every route the app serves that is an API operation (not a file of
    Swagger UI's, which its declaration keeps out with `documented=False`)."""
    return {
        (method, path)
        for path, methods in app.routes.items()
        for method in methods
        if method != "OPTIONS" and routes.find(method, path).documented  # type: ignore[union-attr]
    }


def test_every_route_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert documented == _operations_served()


DOCS_ASSETS = ("/docs/swagger-initializer.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css")


def test_swagger_ui_files_are_served_but_are_not_operations(client: Client, document: dict[str, Any]) -> None:
    for path in DOCS_ASSETS:
        assert path not in document["paths"]
        assert client.http.get(path).status_code == 200
    assert "/docs" in document["paths"]  # the page itself stays: a browser's entry point


def test_every_operation_is_tagged_by_its_resource(document: dict[str, Any]) -> None:
    tags = {(m.upper(), p): op.get("tags") for p, ops in document["paths"].items() for m, op in ops.items()}
    assert all(tag is not None and len(tag) == 1 for tag in tags.values()), tags
    assert {tag[0] for tag in tags.values() if tag} == {
        "auth",
        "users",
        "products",
        "orders",
        "health",
        "docs",
        "payments",
        "webhooks",
    }
    assert tags[("POST", "/payments/webhook")] == ["payments"]
    assert tags[("POST", "/webhooks")] == ["webhooks"]
    assert tags[("POST", "/auth/token")] == ["auth"]
    assert tags[("POST", "/auth/refresh")] == ["auth"]
    assert tags[("GET", "/users/me")] == ["users"]
    assert tags[("POST", "/orders")] == ["orders"]
    assert tags[("GET", "/ready")] == ["health"]


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
    # every operation the app serves (api/routes.all_operations imports every module of api/).
    script = (
        "import json; from chalicelib.api.openapi import document_text; "
        "print(json.dumps(sorted((m.upper(), p) for p, ops in "
        "json.loads(document_text('0')).get('paths', {}).items() for m in ops)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert json.loads(out) == sorted([method, path] for method, path in _operations_served())


# --- the document says what the server refuses (field defects round two, item 6) -----------


@pytest.mark.parametrize("model", ["ProductUpdate", "UserUpdate"])
def test_patch_bodies_declare_no_null_and_at_least_one_field(document: dict[str, Any], model: str) -> None:
    schema = document["components"]["schemas"][model]
    assert schema["minProperties"] == 1
    for name, prop in schema["properties"].items():
        text = json.dumps(prop)
        assert '"null"' not in text, name
        assert "default" not in prop, name


@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        ("/products/{product_id}", "name", {"name": None}),
        ("/users/{user_id}", "role", {"role": None}),
    ],
)
def test_what_the_schema_refuses_the_server_refuses(
    document: dict[str, Any], path: str, field: str, body: dict[str, Any]
) -> None:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    ref = document["paths"][path]["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = {
        **document["components"]["schemas"][ref.rsplit("/", 1)[1]],
        "components": document["components"],
    }
    validator = Draft202012Validator(json.loads(json.dumps(schema).replace("#/components", "#/components")))
    assert not validator.is_valid(body)
    assert not validator.is_valid({})


@pytest.mark.parametrize("name", ["Lamp", "Düp Ωmega", "a\u200db", " x "])
def test_a_name_the_pattern_admits_is_accepted(document: dict[str, Any], name: str) -> None:
    import re

    pattern = document["components"]["schemas"]["ProductCreate"]["properties"]["name"]["pattern"]
    assert re.fullmatch(pattern, name)
    assert ProductCreate.model_validate({"name": name, "price": 1}).name == name.strip()


@pytest.mark.parametrize("name", ["", "   ", "a\u202eb", "tab\there", "bom\ufeff", "nul\x00"])
def test_a_name_the_pattern_refuses_is_refused(document: dict[str, Any], name: str) -> None:
    import re

    from pydantic import ValidationError

    pattern = document["components"]["schemas"]["ProductCreate"]["properties"]["name"]["pattern"]
    assert re.fullmatch(pattern, name) is None
    with pytest.raises(ValidationError):
        ProductCreate.model_validate({"name": name, "price": 1})


@pytest.mark.parametrize(
    ("path", "method"),
    [("/products", "post"), ("/products/{product_id}", "patch"), ("/users", "post"), ("/orders", "post")],
)
def test_write_routes_declare_413_415_and_503(document: dict[str, Any], path: str, method: str) -> None:
    responses = document["paths"][path][method]["responses"]
    assert {"413", "415", "503"} <= set(responses)
    assert "Idempotency-Key" in responses["503"]["description"]
