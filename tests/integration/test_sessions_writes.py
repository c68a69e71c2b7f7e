"""Writes are tied to a live caller: a product or order can never be created for a user
who no longer exists, nor (with a session) by a session that has ended. And the
authorizer fails closed and makes exactly the DynamoDB calls its IAM policy allows."""

from __future__ import annotations

import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from botocore.stub import Stubber
from chalice.app import AuthRequest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.api.auth import authorize
from chalicelib.config import get_settings
from chalicelib.errors import InvalidCredentialsError, ServiceUnavailableError, SessionEndedError
from chalicelib.models.orders import OrderCreate
from chalicelib.models.products import ProductCreate
from chalicelib.security.keys import get_keyring
from chalicelib.services import orders as order_service
from chalicelib.services import products as product_service
from chalicelib.services import sessions as session_service
from chalicelib.services.caller import Caller
from chalicelib.store import keys
from chalicelib.store.repository import ANY
from chalicelib.store.sessions import SessionStore
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore
from infra import build, iam
from infra.stage import DEPLOYED_STAGES, load_stage
from tests.helpers import as_caller, bearer, ensure_user, json_body, token_for

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/users/me"


def new_session(table: Table, user_id: str) -> Caller:
    user = ensure_user(user_id, table=table)
    tokens = session_service.start_session(table, user, get_keyring(), get_settings(), int(time.time()))
    return Caller(user_id=user_id, role="user", session_id=tokens.refresh_token.split(".")[1])


def owned_products(table: Table, owner: str) -> list[dict[str, Any]]:
    items, _ = table.query_newest_first("gsi2", keys.owner_partition(owner), 1000)
    return items


def orders_of(table: Table, user_id: str) -> list[dict[str, Any]]:
    items, _ = table.query_newest_first("gsi1", keys.user_orders_partition(user_id), 1000)
    return items


def test_a_product_is_not_created_by_an_ended_session(table: Table) -> None:
    caller = new_session(table, "seller")
    session_service.logout(table, caller)
    with pytest.raises(SessionEndedError):
        product_service.create_product(table, caller, ProductCreate(name="Late", price=Decimal(1)))
    assert owned_products(table, "seller") == []


def test_a_product_is_not_created_for_a_user_who_no_longer_exists(table: Table) -> None:
    caller = as_caller("ghost", table=table)
    user = UserStore(table).get("ghost")
    assert user is not None
    UserStore(table).delete_if(user.id, ANY)
    with pytest.raises(SessionEndedError):
        product_service.create_product(table, caller, ProductCreate(name="Late", price=Decimal(1)))
    assert owned_products(table, "ghost") == []


def test_an_order_is_not_placed_by_an_ended_session_and_takes_no_stock(table: Table) -> None:
    product = product_service.create_product(
        table, as_caller("seller", table=table), ProductCreate(name="Mug", price=Decimal(5), stock=3)
    )
    buyer = new_session(table, "buyer")
    session_service.logout_all(table, buyer)
    body = OrderCreate.model_validate({"items": [{"product_id": product.id, "quantity": 1}]})
    with pytest.raises(SessionEndedError):
        order_service.place_order(table, buyer, body, key="k-1")
    assert orders_of(table, "buyer") == []
    assert product_service.get_product(table, product.id).values["stock"] == 3
    assert table.get(keys.idempotency_key("buyer", "k-1")) is None


def test_a_login_whose_user_changed_meanwhile_starts_no_session(table: Table) -> None:
    # Given the user as it was when the password was checked
    before = ensure_user("ada", table=table)
    # When the password changes before the session is written
    UserStore(table).update_if("ada", {"password_hash": "new-hash"}, ANY, "2026-01-01T00:00:00.000Z")
    # Then the session is refused, and none exists
    with pytest.raises(InvalidCredentialsError):
        session_service.start_session(table, before, get_keyring(), get_settings(), int(time.time()))
    assert SessionStore(table).end_all("ada") == 0


def test_nothing_is_created_for_a_user_after_its_deletion_was_acknowledged(
    client: Client, table: Table
) -> None:
    # Given a user with stock to buy and many writes about to be in flight
    product = product_service.create_product(
        table, as_caller("seller", table=table), ProductCreate(name="Mug", price=Decimal(5), stock=1000)
    )
    headers = bearer("victim")
    order = json.dumps({"items": [{"product_id": product.id, "quantity": 1}]})
    acknowledged: dict[str, float] = {}
    answers: list[tuple[str, int, float, str | None]] = []
    lock = threading.Lock()
    start = threading.Barrier(9)

    def write(i: int) -> None:
        start.wait()
        for _ in range(4):
            path, body = ("/products", '{"name": "p", "price": 1}') if i % 2 else ("/orders", order)
            sent = time.monotonic()
            response = client.http.post(path, headers=headers, body=body)
            created = json_body(response)["id"] if response.status_code == 201 else None
            with lock:
                answers.append((path, response.status_code, sent, created))

    def delete() -> None:
        start.wait()
        time.sleep(0.05)  # let some writes land first
        response = client.http.delete("/users/victim", headers=bearer("boss", "admin"))
        assert response.status_code == 204
        acknowledged["at"] = time.monotonic()
        # What exists for the user at the moment the delete was acknowledged
        acknowledged["products"] = len(owned_products(table, "victim"))
        acknowledged["orders"] = len(orders_of(table, "victim"))

    with ThreadPoolExecutor(max_workers=9) as pool:
        futures = [pool.submit(write, i) for i in range(8)] + [pool.submit(delete)]
        for future in futures:
            future.result()

    # Then nothing new appeared after the acknowledgement...
    assert len(owned_products(table, "victim")) == acknowledged["products"]
    assert len(orders_of(table, "victim")) == acknowledged["orders"]
    # ...every 201 answered exists, and every refusal was a denial or a 401, never a 5xx
    created_products = {c for p, s, _, c in answers if s == 201 and p == "/products"}
    created_orders = {c for p, s, _, c in answers if s == 201 and p == "/orders"}
    assert created_products == {item["id"] for item in owned_products(table, "victim")}
    assert created_orders == {item["id"] for item in orders_of(table, "victim")}
    assert {s for _, s, _, _ in answers} <= {201, 401, 403}
    # ...and every write sent after the acknowledgement was refused (one answered after it may
    # have been sent, and committed, before it: the first assertions cover those)
    assert all(s != 201 for _, s, sent, _ in answers if sent > acknowledged["at"])


# --- the authorizer's own DynamoDB calls ------------------------------------------------


def test_the_authorizer_fails_loudly_when_the_session_cannot_be_read(client: Client, table: Table) -> None:
    # An outage is not the caller's fault: no 401 (a client would drop its tokens) but the
    # gateway's AUTHORIZER_FAILURE, which the template (and chalice local) answers 503.
    token = token_for("ada")
    stubbed = deps.get_session_table()
    with Stubber(stubbed.client) as stubber:
        for _ in range(4):
            stubber.add_client_error(
                "get_item", service_error_code="InternalServerError", http_status_code=500
            )
        with pytest.raises(ServiceUnavailableError):
            authorize(AuthRequest("TOKEN", f"Bearer {token}", ARN))
        response = client.http.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert json.loads(response.body)["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-Request-Id"] == json.loads(response.body)["request_id"]


def test_the_authorizer_makes_only_the_calls_its_policy_derives(table: Table) -> None:
    # Given every call the authorizer's client makes is recorded
    seen: list[str] = []
    client = deps.get_session_table().client
    client.meta.events.register("before-call.dynamodb", lambda model, **_: seen.append(model.name))
    # When it decides on a live session, an ended one and garbage
    live = token_for("ada")
    ended = token_for("bob")
    SessionStore(table).end_all("bob")
    for token in (live, ended, "garbage"):
        authorize(AuthRequest("TOKEN", f"Bearer {token}", ARN))
    # Then it made one GetItem per decision on a signed token: what its policy grants, and
    # within what its code can reach (the static bound infra/iam.py derives)
    assert seen == ["GetItem", "GetItem"]
    for stage in DEPLOYED_STAGES:
        granted = iam.actions(iam.load_policy(load_stage(stage).authorizer_policy_file), "dynamodb")
        assert set(seen) == granted
    assert set(seen) <= iam.reachable_dynamodb_actions(build.AUTHORIZER_MODULE)


def test_an_authorizer_outage_is_one_warning_line_with_the_503s_request_id_and_cause(
    client: Client, table: Table, log_stream: io.StringIO
) -> None:
    # Given the session read fails (every one of botocore's attempts) for one request
    token = token_for("ada")
    with Stubber(deps.get_session_table().client) as stubber:
        for _ in range(4):
            stubber.add_client_error(
                "get_item", service_error_code="ThrottlingException", http_status_code=400
            )
        response = client.http.get(
            "/users/me", headers={"Authorization": f"Bearer {token}", "X-Request-Id": "trace-me-42"}
        )
    # Then the 503 is not cacheable, and the log has exactly one line for it: a WARNING
    # naming the request id the client sees and the cause
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-Id"] == json.loads(response.body)["request_id"] == "trace-me-42"
    logged = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.strip()]
    assert len(logged) == 1, logged
    (line,) = logged
    assert line["level"] == "WARNING"
    assert line["message"] == "authorizer unavailable"
    assert line["request_id"] == "trace-me-42"
    assert line["error_cause"] == "ThrottlingException"
    assert line["status"] == 503
    assert "stack_trace" not in line
