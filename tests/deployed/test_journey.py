"""The journey through the emulated API Gateway: the packaged functions behind the real
CloudFormation-built stage, authorizer and aliases."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from infra import deploy_local
from tests import mailbox
from tests.deployed.conftest import Stack


def register_and_login(http: requests.Session, stack: Stack) -> dict[str, Any]:
    """A new user's token response (and the user's id under "user_id")."""
    email = f"d-{uuid.uuid4().hex[:12]}@example.com"
    created = http.post(stack.url("/users"), json={"email": email, "password": "password123", "name": "D"})
    assert created.status_code == 201, created.text
    token = http.post(stack.url("/auth/token"), json={"email": email, "password": "password123"})
    assert token.status_code == 200, token.text
    return {
        **token.json(),
        "user_id": created.json()["id"],
        "email": email,
        "location": created.headers["Location"],
    }


def mailed_token(http: requests.Session, stack: Stack, address: str, subject_word: str) -> str:
    """The token of the newest mail SES (the emulator's) sent to `address` about `subject_word`."""
    answer = http.get(f"{stack.endpoint}/_ministack/ses/messages")
    assert answer.status_code == 200, answer.text
    mails = [
        mail
        for messages in answer.json()["messages"].values()
        for mail in messages
        if address in mail["To"] and subject_word in mail["Subject"]
    ]
    assert mails, f"no {subject_word!r} mail to {address}"
    newest = max(mails, key=lambda mail: mail["Timestamp"])
    assert newest["Source"] == f"no-reply@{deploy_local.MAIL_DOMAIN}"
    return mailbox.token_in(newest["BodyText"])


def bearer(token: dict[str, Any]) -> dict[str, str]:
    """The Authorization header of a token response."""
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_journey_register_to_logout_through_the_gateway(http: requests.Session, stack: Stack) -> None:
    # Given a registered user with a token
    session = register_and_login(http, stack)
    me = http.get(stack.url("/users/me"), headers=bearer(session))
    assert me.status_code == 200
    assert me.json()["id"] == session["user_id"]
    # When they create a product, read it twice (the second time conditionally) and order it
    product = http.post(
        stack.url("/products"), headers=bearer(session), json={"name": "Lamp", "price": 12.5, "stock": 3}
    )
    assert product.status_code == 201, product.text
    product_id = product.json()["id"]
    read = http.get(stack.url(f"/products/{product_id}"))
    assert read.status_code == 200
    etag = read.headers["ETag"]
    unchanged = http.get(stack.url(f"/products/{product_id}"), headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.headers["ETag"] == etag
    assert unchanged.content == b""
    lines = {"items": [{"product_id": product_id, "quantity": 2}]}
    # (the deployed stage requires a verified address to order: the mail came through SES)
    unverified = http.post(stack.url("/orders"), headers=bearer(session), json=lines)
    assert unverified.status_code == 403, unverified.text
    assert unverified.json()["code"] == "email_unverified"
    token = mailed_token(http, stack, session["email"], "Confirm")
    assert http.post(stack.url("/auth/verify-email"), json={"token": token}).status_code == 204
    assert http.get(stack.url("/users/me"), headers=bearer(session)).json()["email_verified"] is True
    order = http.post(stack.url("/orders"), headers=bearer(session), json=lines)
    assert order.status_code == 201, order.text
    assert http.get(stack.url(f"/products/{product_id}")).json()["stock"] == 1
    # Then cancelling gives the stock back
    cancelled = http.post(stack.url(f"/orders/{order.json()['id']}/cancel"), headers=bearer(session))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert http.get(stack.url(f"/products/{product_id}")).json()["stock"] == 3
    # And the session refreshes, then ends
    refreshed = http.post(stack.url("/auth/refresh"), json={"refresh_token": session["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert http.get(stack.url("/users/me"), headers=bearer(refreshed.json())).status_code == 200
    assert http.post(stack.url("/auth/logout"), headers=bearer(refreshed.json())).status_code == 204
    spent = http.post(stack.url("/auth/refresh"), json={"refresh_token": refreshed.json()["refresh_token"]})
    assert spent.status_code == 401
    assert spent.json()["code"] == "unauthorized"


def test_the_admin_deploy_made_can_log_in_and_list_users(http: requests.Session, stack: Stack) -> None:
    login = {"email": stack.deployed.admin_email, "password": stack.deployed.admin_password}
    token = http.post(stack.url("/auth/token"), json=login)
    assert token.status_code == 200, token.text
    users = http.get(stack.url("/users"), headers=bearer(token.json()))
    assert users.status_code == 200
    assert stack.deployed.admin_email in {u["email"] for u in users.json()["items"]}


def test_health_and_ready_reach_dynamodb_and_the_key_in_ssm(http: requests.Session, stack: Stack) -> None:
    assert http.get(stack.url("/health")).json()["status"] == "ok"
    ready = http.get(stack.url("/ready"))
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
