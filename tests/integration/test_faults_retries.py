"""Faults injected at the boto3 layer (tests/faults.py): botocore's standard retries are
configured and exercised, and once they are exhausted the API answers 503
`service_unavailable` with Retry-After — never a 500, never a half-write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.store.table import Table
from manage import scan_all
from tests import faults
from tests.faults import Fault, Faults
from tests.helpers import json_body

MAX_ATTEMPTS = 3  # chalicelib.store.table.create_client's standard-mode attempts
JSON = {"Content-Type": "application/json"}
USER = {"email": "ada@example.com", "password": "correct-horse-battery", "name": "Ada"}


def snapshot(table: Table) -> list[dict[str, Any]]:
    return sorted(scan_all(table), key=lambda item: json.dumps(item, sort_keys=True))


def register(client: Client) -> Any:
    return client.http.post("/users", body=json.dumps(USER), headers=JSON)


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.body
    assert json_body(response)["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("code", faults.THROTTLING_CODES)
def test_throttling_is_retried_then_503_with_retry_after(client: Client, table: Table, code: str) -> None:
    injected = Faults(table.client)
    injected.by_operation["GetItem"] = faults.throttled(code)
    with injected.armed():
        response = client.http.get("/products/01ABC")
    assert_unavailable(response)
    assert injected.attempts_of("GetItem") == MAX_ATTEMPTS


@pytest.mark.parametrize(
    "fault",
    [
        faults.throttled(attempts=2),
        faults.server_error(attempts=2),
        Fault("reset", attempts=2),
        Fault("timeout", attempts=1),
    ],
    ids=["throttled", "500", "reset", "timeout"],
)
def test_a_transient_fault_that_clears_within_the_retries_is_invisible(
    client: Client, table: Table, fault: Fault
) -> None:
    injected = Faults(table.client)
    injected.by_operation["GetItem"] = fault
    with injected.armed():
        response = client.http.get("/products/01ABC")
    assert response.status_code == 404  # the real answer: no such product
    assert injected.attempts_of("GetItem") == fault.attempts + 1


@pytest.mark.parametrize(
    "fault",
    [faults.server_error(), Fault("reset"), Fault("timeout")],
    ids=["InternalServerError", "connection reset", "read timeout"],
)
def test_a_fault_that_outlasts_the_retries_is_503(client: Client, table: Table, fault: Fault) -> None:
    injected = Faults(table.client)
    injected.by_operation["Query"] = fault
    with injected.armed():
        response = client.http.get("/products")
    assert_unavailable(response)
    assert injected.attempts_of("Query") == MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("ConditionalCheckFailed", 409),  # the e-mail is taken: the domain answer
        ("TransactionConflict", 503),  # retried by Table.transact_write, then 503
        ("ProvisionedThroughputExceeded", 503),
        ("ThrottlingError", 503),
        ("ItemCollectionSizeLimitExceeded", 503),
        ("ValidationError", 500),  # our request is wrong: a bug, not an outage
    ],
)
def test_each_cancellation_reason_of_a_transaction_gets_its_answer_and_writes_nothing(
    client: Client, table: Table, reason: str, status: int
) -> None:
    before = snapshot(table)
    injected = Faults(table.client)
    injected.by_operation["TransactWriteItems"] = faults.cancelled(reason)
    with injected.armed():
        response = register(client)
    assert response.status_code == status, response.body
    if status == 503:
        assert int(response.headers["Retry-After"]) >= 1
    assert snapshot(table) == before


def test_no_attempt_starts_that_could_outlast_the_request_budget(
    client: Client, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a budget shorter than one attempt's worst case (connect 1 s + read 3 s)
    monkeypatch.setenv("REQUEST_BUDGET_SECONDS", "2")
    deps.reset()
    injected = Faults(deps.get_table().client)
    with injected.armed():
        response = client.http.get("/products")
    assert_unavailable(response)
    assert injected.calls == ["Query"]
    assert injected.attempts == []  # refused before it was sent


def test_retries_stop_at_the_deadline_when_the_engine_is_slow(
    client: Client, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a budget with room for one attempt and a half, and an engine whose every answer
    # takes 0.6 s and then times out
    monkeypatch.setenv("REQUEST_BUDGET_SECONDS", "4.5")
    deps.reset()
    injected = Faults(deps.get_table().client)
    injected.by_operation["Query"] = Fault("timeout", delay=0.6)
    with injected.armed():
        response = client.http.get("/products")
    assert_unavailable(response)
    # A second attempt would need 4 s more than the < 3.9 s left after the first: never sent.
    assert injected.attempts_of("Query") == 1
