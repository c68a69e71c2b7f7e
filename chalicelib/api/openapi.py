"""GET /openapi.json: an OpenAPI 3.1 document built from the models that validate requests.

Each route is described once, below, by the model classes its view parses and returns;
a test checks that this table and the app's route table name the same operations.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Response
from pydantic import BaseModel

from chalicelib.api.http import ID_PATTERN, ApiBlueprint
from chalicelib.config import get_settings
from chalicelib.models.common import ErrorBody, Page, PageQuery
from chalicelib.models.orders import OrderCreate, OrderPublic
from chalicelib.models.products import ProductCreate, ProductListQuery, ProductPublic, ProductUpdate
from chalicelib.models.users import TokenPublic, TokenRequest, UserCreate, UserPublic, UserUpdate

bp = ApiBlueprint(__name__)
Refs = dict[Any, Any]  # (model, mode) → {"$ref": ...}


class HealthPublic(BaseModel):
    status: str
    version: str


class ReadyPublic(BaseModel):
    status: str
    checks: dict[str, str]


@dataclass(frozen=True)
class Operation:
    method: str
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


_ID_SCHEMA = {"type": "string", "pattern": ID_PATTERN.pattern}  # what api.http.path_id() accepts
_ERRORS = {
    400: "Invalid JSON, validation error or invalid cursor",
    401: "Missing or invalid credentials",
    403: "Authenticated but not allowed",
    404: "No such resource",
    409: "Conflict (e-mail taken, idempotency key reuse, insufficient stock)",
    412: "If-Match does not match the current version",
    413: "Body over 64 KiB",
    415: "Body is not application/json",
    429: "Too many failed logins (Retry-After)",
    503: "Database unavailable (Retry-After)",
}

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/health", "Liveness", response=HealthPublic),
    Operation("get", "/ready", "Readiness (checks DynamoDB)", response=ReadyPublic, errors=(503,)),
    Operation("get", "/openapi.json", "This document"),
    Operation(
        "get", "/docs", "Interactive documentation of this document (Swagger UI)", media_type="text/html"
    ),
    Operation(
        "get",
        "/docs/swagger-initializer.js",
        "Starts Swagger UI on this document",
        media_type="text/javascript",
    ),
    Operation("get", "/docs/swagger-ui-bundle.js", "Swagger UI's script", media_type="text/javascript"),
    Operation("get", "/docs/swagger-ui.css", "Swagger UI's styles", media_type="text/css"),
    Operation("post", "/users", "Register", 201, UserCreate, response=UserPublic, errors=(400, 409)),
    Operation(
        "post",
        "/auth/token",
        "Get an access token",
        body=TokenRequest,
        response=TokenPublic,
        errors=(400, 401, 429),
    ),
    Operation("get", "/users/me", "The caller", response=UserPublic, auth=True),
    Operation(
        "get",
        "/users",
        "All users (admin)",
        query=PageQuery,
        response=Page[UserPublic],
        auth=True,
        errors=(400, 403),
    ),
    Operation(
        "get",
        "/users/{user_id}",
        "One user (self or admin)",
        response=UserPublic,
        auth=True,
        errors=(403, 404),
    ),
    Operation(
        "patch",
        "/users/{user_id}",
        "Update a user (self or admin)",
        body=UserUpdate,
        response=UserPublic,
        auth=True,
        errors=(400, 403, 404),
    ),
    Operation(
        "delete", "/users/{user_id}", "Delete a user (self or admin)", 204, auth=True, errors=(403, 404)
    ),
    Operation(
        "get",
        "/products",
        "Products, newest first",
        query=ProductListQuery,
        response=Page[ProductPublic],
        errors=(400,),
    ),
    Operation(
        "post",
        "/products",
        "Create a product (caller owns it)",
        201,
        ProductCreate,
        response=ProductPublic,
        auth=True,
        errors=(400,),
    ),
    Operation(
        "get",
        "/products/{product_id}",
        "One product (ETag; 304 Not Modified when If-None-Match names it)",
        response=ProductPublic,
        errors=(404,),
        headers={"If-None-Match": 'Answer 304 with no body if the ETag is still this one, e.g. "3"'},
        not_modified=True,
    ),
    Operation(
        "patch",
        "/products/{product_id}",
        "Update a product (owner or admin; If-Match)",
        body=ProductUpdate,
        response=ProductPublic,
        auth=True,
        errors=(400, 403, 404, 412),
        headers={"If-Match": 'Apply only to this version, e.g. "3"'},
    ),
    Operation(
        "delete",
        "/products/{product_id}",
        "Delete a product (owner or admin)",
        204,
        auth=True,
        errors=(403, 404, 412),
    ),
    Operation(
        "post",
        "/orders",
        "Place an order (one transaction)",
        201,
        OrderCreate,
        response=OrderPublic,
        auth=True,
        errors=(400, 409),
        headers={"Idempotency-Key": "Retry safely: same key and body within 24 h returns the first order"},
    ),
    Operation(
        "get",
        "/orders",
        "The caller's orders, newest first",
        query=PageQuery,
        response=Page[OrderPublic],
        auth=True,
        errors=(400,),
    ),
    Operation(
        "get",
        "/orders/{order_id}",
        "One order (owner or admin)",
        response=OrderPublic,
        auth=True,
        errors=(403, 404),
    ),
    Operation(
        "post",
        "/orders/{order_id}/cancel",
        "Cancel an order (stock comes back)",
        response=OrderPublic,
        auth=True,
        errors=(403, 404),
    ),
)


def _schemas() -> tuple[Refs, dict[str, Any]]:
    from pydantic.json_schema import models_json_schema  # deferred: only this route needs it

    models: set[tuple[type[BaseModel], Any]] = {(ErrorBody, "serialization")}
    for op in OPERATIONS:
        models.update((m, "validation") for m in (op.body, op.query) if m is not None)
        if op.response is not None:
            models.add((op.response, "serialization"))
    refs, defs = models_json_schema(
        sorted(models, key=lambda m: m[0].__name__), ref_template="#/components/schemas/{model}"
    )
    return refs, defs.get("$defs", {})


def _parameters(op: Operation, refs: Refs) -> list[dict[str, Any]]:
    params = [
        {"name": name.strip("{}"), "in": "path", "required": True, "schema": _ID_SCHEMA}
        for name in op.path.split("/")
        if name.startswith("{")
    ]
    if op.query is not None:
        for name, info in op.query.model_fields.items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": info.is_required(),
                    "schema": op.query.model_json_schema()["properties"][name],
                }
            )
    params += [
        {"name": h, "in": "header", "required": False, "description": d, "schema": {"type": "string"}}
        for h, d in op.headers.items()
    ]
    return params


def _operation(op: Operation, refs: Refs) -> dict[str, Any]:
    error_ref = refs[(ErrorBody, "serialization")]
    ok: dict[str, Any] = {"description": "OK" if op.ok != 204 else "No content"}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    elif op.media_type != "application/json":
        ok["content"] = {op.media_type: {"schema": {"type": "string"}}}
    elif op.ok != 204:
        ok["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses: dict[str, Any] = {str(op.ok): ok}
    if op.not_modified:
        responses["304"] = {"description": "Not modified: If-None-Match names the current ETag (no body)"}
    implied = {*((401,) if op.auth else ()), *((400,) if "{" in op.path or op.query or op.body else ())}
    for status in sorted({*op.errors, *implied, 500}):
        description = _ERRORS.get(status, "Internal error")
        responses[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": error_ref}},
        }
    out: dict[str, Any] = {"summary": op.summary, "parameters": _parameters(op, refs), "responses": responses}
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    if op.auth:
        out["security"] = [{"bearerAuth": []}]
    return out


@functools.cache
def document_text(version: str) -> str:
    """The OpenAPI document as JSON text (built once per container)."""
    refs, defs = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Storefront API", "version": version},
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    """The OpenAPI 3.1 description of every route."""
    return Response(
        body=document_text(get_settings().app_version),
        status_code=200,
        headers={"Content-Type": "application/json"},
    )
