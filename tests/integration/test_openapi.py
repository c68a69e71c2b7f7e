"""GET /openapi.json describes exactly the app's routes, with the models that validate them."""

from __future__ import annotations

import copy
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


FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "openapi-before.json"
# Intended differences from the document generated before the one route table (issue 10):
# OrderPublic is no longer also the stored shape (OrderItem is), so its description no
# longer says "and as it is stored, plus keys".
INTENDED = {("components", "schemas", "OrderPublic", "description"): "An order as the API shows it."}


SESSION_PATHS = ("/auth/refresh", "/auth/logout", "/auth/logout-all")
SESSION_TOKEN_FIELDS = ("refresh_token", "refresh_expires_in")


def _sessions_taken_out(document: dict[str, Any]) -> dict[str, Any]:
    """The document without what the session work (issue 11) added on purpose."""
    doc = copy.deepcopy(document)
    for path in SESSION_PATHS:
        del doc["paths"][path]
    schemas = doc["components"]["schemas"]
    del schemas["RefreshRequest"]
    token = schemas["TokenPublic"]
    for name in SESSION_TOKEN_FIELDS:
        del token["properties"][name]
        token["required"].remove(name)
    token["description"] = "Answer of POST /auth/token."
    login = doc["paths"]["/auth/token"]["post"]
    login["summary"] = "Get an access token"
    login["responses"]["429"]["description"] = "Too many failed logins (Retry-After)"
    return doc


ACCOUNT_PATHS = (
    "/auth/password-reset",
    "/auth/password-reset/confirm",
    "/auth/verify-email",
    "/auth/verify-email/resend",
)
ACCOUNT_SCHEMAS = ("AcceptedPublic", "PasswordResetConfirm", "PasswordResetRequest", "VerifyEmailRequest")


def _accounts_taken_out(document: dict[str, Any]) -> dict[str, Any]:
    """The document without what the account recovery work (issue 24) added on purpose."""
    doc = copy.deepcopy(document)
    for path in ACCOUNT_PATHS:
        del doc["paths"][path]
    for name in ACCOUNT_SCHEMAS:
        del doc["components"]["schemas"][name]
    del doc["components"]["schemas"]["UserPublic"]["properties"]["email_verified"]
    del doc["paths"]["/orders"]["post"]["responses"]["403"]  # email_unverified
    return doc


def test_the_document_equals_the_one_generated_before_the_route_table(document: dict[str, Any]) -> None:
    document = _sessions_taken_out(_accounts_taken_out(document))
    before = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for path, value in INTENDED.items():
        node = before
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    before["info"]["version"] = document["info"]["version"]
    assert document == before


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
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=FIXTURE.parents[2]
    ).stdout
    routed = sorted(
        [method, path] for path, methods in app.routes.items() for method in methods if method != "OPTIONS"
    )
    assert json.loads(out) == routed
