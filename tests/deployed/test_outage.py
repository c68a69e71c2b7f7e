"""DynamoDB unavailable to the authorizer: the gateway answers 503 (AUTHORIZER_FAILURE, with
Retry-After), never a 401 that would make a client drop valid credentials.

The table is deleted under the stack for the duration (MiniStack has no fault injection);
the authorizer's session read then fails as in an outage (ResourceNotFoundException is one
of the store's "unavailable" errors). The table comes back with the stack's own schema, so
the stack deletes cleanly at the end. Runs last in this directory (file name order).
"""

from __future__ import annotations

import time

import requests

from chalicelib.store import schema
from tests.deployed.conftest import Stack
from tests.deployed.test_journey import bearer, register_and_login


def test_dynamodb_outage_is_a_503_from_the_authorizer(http: requests.Session, stack: Stack) -> None:
    # Given a valid token the gateway has never seen (no cached decision)
    session = register_and_login(http, stack)
    dynamodb = stack.aws("dynamodb")
    dynamodb.delete_table(TableName=stack.stage.table_name)
    try:
        # When the authorizer cannot read the session
        response = http.get(stack.url("/users/me"), headers=bearer(session))
        # Then the gateway's AUTHORIZER_FAILURE response: 503, retry, keep the credentials
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "service_unavailable"
        assert response.headers["Retry-After"] == "1"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        dynamodb.create_table(**schema.create_table_params(stack.stage.table_name))
        dynamodb.get_waiter("table_exists").wait(TableName=stack.stage.table_name)
    # And once DynamoDB is back, the service is too (the old session went with the table)
    deadline = time.monotonic() + 10
    while http.get(stack.url("/ready")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert http.get(stack.url("/ready")).status_code == 200
    fresh = register_and_login(http, stack)
    assert http.get(stack.url("/users/me"), headers=bearer(fresh)).status_code == 200
