"""The payment webhook's Standard Webhooks signature, with the `standardwebhooks` library on
both sides: the provider's (tests/payments.py signs) and the app's (it verifies). A refused
delivery is a 401 with the error body, and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.jsonio import dumps
from chalicelib.store.table import Table
from tests.conftest import TEST_PAYMENT_WEBHOOK_SECRET
from tests.helpers import json_body
from tests.orderflow import get, make_product, place
from tests.payments import deliver, payment_event, signed_headers

OTHER_SECRET = "whsec_b3RoZXItc2VjcmV0LW9mLXRoZS1wcm92aWRlci0wMTIzNDU2Nzg5"


@pytest.fixture
def order(client: Client, table: Table) -> dict[str, Any]:
    return place(client, make_product(table))


def unchanged(client: Client, order: dict[str, Any]) -> bool:
    seen = json_body(get(client, f"/orders/{order['id']}"))
    return bool(seen["status"] == "placed" and seen["status_history"] == order["status_history"])


def refused(response: Any) -> bool:
    return bool(response.status_code == 401 and json_body(response)["code"] == "unauthorized")


def test_a_tampered_body_is_401_and_changes_nothing(client: Client, order: dict[str, Any]) -> None:
    body = dumps(payment_event(order["id"], "39.98")).encode()
    headers = signed_headers(body)
    tampered = body.replace(b"39.98", b"39.99")
    assert refused(client.http.post("/payments/webhook", body=tampered, headers=headers))
    assert unchanged(client, order)


def test_a_wrong_secret_is_401(client: Client, order: dict[str, Any]) -> None:
    assert refused(deliver(client, payment_event(order["id"], "39.98"), secrets=(OTHER_SECRET,)))
    assert unchanged(client, order)


@pytest.mark.parametrize("age", [timedelta(minutes=6), timedelta(minutes=-6)])
def test_a_timestamp_more_than_five_minutes_off_is_401(
    client: Client, order: dict[str, Any], age: timedelta
) -> None:
    assert refused(deliver(client, payment_event(order["id"], "39.98"), age=age))
    assert unchanged(client, order)


def test_a_timestamp_within_five_minutes_is_accepted(client: Client, order: dict[str, Any]) -> None:
    answer = deliver(client, payment_event(order["id"], "39.98"), age=timedelta(minutes=4))
    assert answer.status_code == 200, answer.body


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_401(client: Client, order: dict[str, Any], missing: str) -> None:
    body = dumps(payment_event(order["id"], "39.98")).encode()
    headers = {k: v for k, v in signed_headers(body).items() if k != missing}
    assert refused(client.http.post("/payments/webhook", body=body, headers=headers))
    assert unchanged(client, order)


def test_the_signature_is_checked_before_the_body(client: Client, table: Table) -> None:
    garbage = b'{"type": "nonsense"'
    assert refused(
        client.http.post("/payments/webhook", body=garbage, headers={"Content-Type": "application/json"})
    )
    signed = client.http.post("/payments/webhook", body=garbage, headers=signed_headers(garbage))
    assert signed.status_code == 400
    assert json_body(signed)["code"] == "invalid_json"
    wrong_shape = dumps({"type": "payment.refunded", "data": {}}).encode()
    answer = client.http.post("/payments/webhook", body=wrong_shape, headers=signed_headers(wrong_shape))
    assert answer.status_code == 400
    assert json_body(answer)["code"] == "validation_error"


@pytest.fixture
def rotating(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app accepts the new secret and, for the rotation, the old one."""
    monkeypatch.setenv("PAYMENT_WEBHOOK_SECRET", f"{OTHER_SECRET} {TEST_PAYMENT_WEBHOOK_SECRET}")
    deps.reset()
    yield
    monkeypatch.undo()
    deps.reset()


def test_during_a_rotation_either_secret_is_accepted(client: Client, table: Table, rotating: None) -> None:
    first, second = place(client, make_product(table)), place(client, make_product(table))
    assert (
        deliver(
            client, payment_event(first["id"], "39.98"), secrets=(TEST_PAYMENT_WEBHOOK_SECRET,)
        ).status_code
        == 200
    )
    assert deliver(client, payment_event(second["id"], "39.98"), secrets=(OTHER_SECRET,)).status_code == 200


def test_a_delivery_signed_with_two_secrets_verifies_against_either(
    client: Client, order: dict[str, Any]
) -> None:
    # The provider signs with its old and new secret; the app still knows only the old one.
    both = (OTHER_SECRET, TEST_PAYMENT_WEBHOOK_SECRET)
    answer = deliver(client, payment_event(order["id"], "39.98"), secrets=both)
    assert answer.status_code == 200, answer.body
