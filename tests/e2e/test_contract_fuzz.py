"""Contract fuzzing: schemathesis generates requests from our own OpenAPI document and sends
them over HTTP to `chalice local`; every answer the app produces must be a non-5xx response
that the document describes (status, content type, body schema).

Answers produced by the local gateway itself (the authorizer's 403, chalice local's 501 for
unknown methods) are not the app's and are left out: they carry no X-Request-Id.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.api.openapi import document_text

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

schema = schemathesis.openapi.from_dict(json.loads(document_text("fuzz")))
# Valid and invalid requests alike: invalid input must be a documented 4xx, never a 500.
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def auth_headers(live: str) -> dict[str, str]:
    """A real registered user's bearer token."""
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    password = "fuzzing-password-1"
    created = requests.post(
        f"{live}/users", json={"email": email, "password": password, "name": "F"}, timeout=10
    )
    assert created.status_code == 201
    token = requests.post(f"{live}/auth/token", json={"email": email, "password": password}, timeout=10)
    assert token.status_code == 200
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_app_answer_conforms_to_the_document(
    case: Any, live: str, auth_headers: dict[str, str]
) -> None:
    response = case.call(base_url=live, headers=auth_headers, timeout=10)
    if case.method == "OPTIONS":  # CORS preflight (api/cors.py), not part of the document
        assert response.status_code == 204
        return
    if "x-request-id" not in {name.lower() for name in response.headers}:
        assert response.status_code in {401, 403, 404, 501}, case.as_curl_command()
        return
    case.validate_response(response, checks=CHECKS)
