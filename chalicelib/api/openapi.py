"""GET /openapi.json: an OpenAPI 3.1 document built from the one route table (api/routes.py)
and the models that validate requests. Nothing here repeats a path, a method or a status."""

from __future__ import annotations

import functools
import json
from typing import Any

from chalice.app import Response
from pydantic import BaseModel

from chalicelib.api.caching import DOCS
from chalicelib.api.http import ID_PATTERN, ApiBlueprint
from chalicelib.api.routes import Operation, all_operations
from chalicelib.config import get_settings
from chalicelib.models.common import ErrorBody

bp = ApiBlueprint(__name__, tag="docs")
Refs = dict[Any, Any]  # (model, mode) → {"$ref": ...}


_ID_SCHEMA = {"type": "string", "pattern": ID_PATTERN.pattern}  # what api.http.path_id() accepts
_ERRORS = {
    400: "Invalid JSON, validation error or invalid cursor",
    401: "Missing or invalid credentials",
    403: "Authenticated but not allowed",
    404: "No such resource",
    409: "Conflict (e-mail taken, idempotency key reuse, insufficient stock)",
    412: "If-Match does not match the current version",
    413: "Body over the size limit (Settings.max_body_bytes)",
    415: "Body is not application/json",
    429: "Too many login or refresh attempts (Retry-After)",
    503: "Database unavailable (Retry-After); on a write the outcome is unknown: retry with the same "
    "Idempotency-Key",
}


def documented_operations() -> list[Operation]:
    """The API's operations: every declared route but those declared `documented=False`."""
    return [op for op in all_operations() if op.documented]


def _schemas() -> tuple[Refs, dict[str, Any]]:
    from pydantic.json_schema import models_json_schema  # deferred: only this route needs it

    models: set[tuple[type[BaseModel], Any]] = {(ErrorBody, "serialization")}
    for op in documented_operations():
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


# Routes that never read the table: the description, its files and liveness.
_STATIC_PREFIXES = ("/docs", "/openapi.json", "/health")


def _uses_the_database(op: Operation) -> bool:
    """True when the route (or its authorizer) reads or writes DynamoDB: it can answer 503."""
    return op.auth or not op.path.startswith(_STATIC_PREFIXES)


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
    implied = {
        *((401,) if op.auth else ()),
        *((400,) if "{" in op.path or op.query or op.body else ()),
        *((413, 415) if op.body else ()),  # the middleware's body guards (api/middleware.py)
        *((503,) if _uses_the_database(op) else ()),  # the table, or the authorizer's session read
    }
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
    if op.tag:
        out["tags"] = [op.tag]
    return out


@functools.cache
def document_text(version: str) -> str:
    """The OpenAPI document as JSON text (built once per container)."""
    refs, defs = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in documented_operations():
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


@bp.operation("GET", "/openapi.json", "This document", cache=DOCS)
def openapi() -> Response:
    """The OpenAPI 3.1 description of every route."""
    return Response(
        body=document_text(get_settings().app_version),
        status_code=200,
        headers={"Content-Type": "application/json"},
    )
