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


# The document describes exactly what the write bodies accept (field defects round two, item 6):
# a body the schema admits is never refused as invalid (400), a body it refuses always is a 4xx.
# Bodies only: the other inputs (If-Match, Idempotency-Key, ids) have rules of their own, so
# headers are dropped, ids made valid, and only the body's generation mode decides what is
# expected. (PATCH /users checks permission before the body: tests/integration/test_openapi.py.)
WRITES = schema.include(path_regex=r"^/(products|products/\{product_id\})$", method=["POST", "PATCH"])


def _body_mode(case: Any) -> GenerationMode | None:
    for where, info in (case.meta.components if case.meta is not None else {}).items():
        if getattr(where, "value", where) == "body":
            return GenerationMode(info.mode)
    return None


@WRITES.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_write_bodies_are_accepted_exactly_as_the_document_says(
    case: Any, live: str, auth_headers: dict[str, str]
) -> None:
    mode = _body_mode(case)
    if case.method != case.operation.method.upper() or mode is None:
        return  # an unsupported method or no body: not the body's rule
    case.headers = {}
    if case.path_parameters:  # a valid id of no product: the body is checked before existence
        case.path_parameters = {"product_id": "01NOSUCHPRODUCT"}
    response = case.call(base_url=live, headers=auth_headers, timeout=10)
    curl = case.as_curl_command()
    assert response.status_code < 500, curl
    if mode == GenerationMode.POSITIVE:
        assert response.status_code != 400, f"{response.text}\n{curl}"
    else:
        assert 400 <= response.status_code < 500, f"{response.status_code} {response.text}\n{curl}"
