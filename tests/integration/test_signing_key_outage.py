"""Deployed, the JWT key comes from SSM at cold start. When SSM fails, the routes that
need the key answer 503 with Retry-After, /ready names the failing dependency, and the
next request tries again (the container is not poisoned by one bad moment).

SSM is moto's, served by a second embedded engine reached through botocore's own
service-specific endpoint setting (AWS_ENDPOINT_URL_SSM)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from chalice.app import AuthRequest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.api.auth import authorize
from chalicelib.errors import ServiceUnavailableError
from chalicelib.store.table import Table
from tests.conftest import TEST_JWT_SECRET
from tests.helpers import json_body
from tools import processes

PARAMETER = "/storefront/test/jwt-secret"
JSON = {"Content-Type": "application/json"}
LOGIN = {"email": "ada@example.com", "password": "correct-horse-battery"}


@pytest.fixture
def ssm_port(client: Client, table: Table, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A registered user; the key to come from an SSM endpoint where nothing listens yet."""
    user = {**LOGIN, "name": "Ada"}
    assert client.http.post("/users", body=json.dumps(user), headers=JSON).status_code == 201
    port = processes.free_port()
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("JWT_SECRET_PARAM", PARAMETER)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", f"http://127.0.0.1:{port}")
    deps.reset()
    yield port
    deps.reset()


def test_an_ssm_failure_is_503_then_the_next_request_succeeds(client: Client, ssm_port: int) -> None:
    # When SSM cannot be reached at cold start
    response = client.http.post("/auth/token", body=json.dumps(LOGIN), headers=JSON)
    ready = client.http.get("/ready")
    # Then the route that signs tokens says so, and readiness names the key
    assert response.status_code == 503
    assert json_body(response)["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert ready.status_code == 503
    assert json_body(ready)["checks"] == {"dynamodb": "ok", "signing_key": "unreachable"}
    # And the authorizer fails loudly (API Gateway's AUTHORIZER_FAILURE), never a false deny
    with pytest.raises(ServiceUnavailableError):
        authorize(AuthRequest("TOKEN", "Bearer x.y.z", "arn:aws:execute-api:r:1:a/api/GET/users/me"))

    # When SSM comes back, the same container recovers on the next request
    engine = processes.start_engine(ssm_port)
    try:
        ssm = boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{ssm_port}", region_name="us-east-1")
        ssm.put_parameter(Name=PARAMETER, Value=TEST_JWT_SECRET, Type="SecureString")
        response = client.http.post("/auth/token", body=json.dumps(LOGIN), headers=JSON)
        ready = client.http.get("/ready")
    finally:
        processes.stop(engine)
    assert response.status_code == 200, response.body
    assert json_body(response)["access_token"]
    assert json_body(ready) == {"status": "ready", "checks": {"dynamodb": "ok", "signing_key": "ok"}}


def test_locally_the_key_is_configuration_and_ready_keeps_one_check(client: Client) -> None:
    assert json_body(client.http.get("/ready"))["checks"] == {"dynamodb": "ok"}
