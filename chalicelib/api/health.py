"""GET /health and GET /ready."""

from __future__ import annotations

from chalice.app import Response
from pydantic import BaseModel

from chalicelib.api.deps import get_probe_table
from chalicelib.api.http import ApiBlueprint, json_response
from chalicelib.config import get_settings
from chalicelib.services.health import check_dynamodb

bp = ApiBlueprint(__name__)


class HealthPublic(BaseModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    status: str
    version: str


class ReadyPublic(BaseModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    status: str
    checks: dict[str, str]


@bp.operation("GET", "/health", "Liveness", response=HealthPublic)
def health() -> Response:
    """Liveness: touches nothing."""
    return json_response({"status": "ok", "version": get_settings().app_version})


@bp.operation("GET", "/ready", "Readiness (checks DynamoDB)", response=ReadyPublic, errors=(503,))
def ready() -> Response:
    """Readiness: one DescribeTable with a short timeout."""
    result = check_dynamodb(get_probe_table())
    if result == "ok":
        return json_response({"status": "ready", "checks": {"dynamodb": "ok"}})
    return json_response({"status": "unavailable", "checks": {"dynamodb": result}}, 503)
