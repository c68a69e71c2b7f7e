"""GET /health and GET /ready."""

from __future__ import annotations

from chalice.app import Response
from pydantic import BaseModel, ConfigDict

from chalicelib.api.deps import get_probe_table
from chalicelib.api.http import ApiBlueprint, json_response
from chalicelib.config import get_settings
from chalicelib.security.keys import get_keyring
from chalicelib.services.health import check_dynamodb, check_signing_key

bp = ApiBlueprint(__name__, tag="health")


class HealthPublic(BaseModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    model_config = ConfigDict(defer_build=True)  # built on first use, not at every cold start

    status: str
    version: str


class ReadyPublic(BaseModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    model_config = ConfigDict(defer_build=True)

    status: str
    checks: dict[str, str]


@bp.operation("GET", "/health", "Liveness", response=HealthPublic)
def health() -> Response:
    """Liveness: touches nothing."""
    return json_response({"status": "ok", "version": get_settings().app_version})


@bp.operation("GET", "/ready", "Readiness (checks DynamoDB)", response=ReadyPublic, errors=(503,))
def ready() -> Response:
    """Readiness: one DescribeTable with a short timeout; deployed, the signing key too.

    The key is a dependency only where it comes from SSM (JWT_SECRET_PARAM); locally it
    is configuration, so the local answer keeps the documented one check.
    """
    checks = {"dynamodb": check_dynamodb(get_probe_table())}
    if get_settings().jwt_secret_param:
        checks["signing_key"] = check_signing_key(get_keyring)
    if all(result == "ok" for result in checks.values()):
        return json_response({"status": "ready", "checks": checks})
    return json_response({"status": "unavailable", "checks": checks}, 503)
