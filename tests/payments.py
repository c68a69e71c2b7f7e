"""Helpers that play the payment provider: Standard Webhooks deliveries signed with the
`standardwebhooks` library itself (the same library verifies them in the app)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalice.test import Client
from standardwebhooks.webhooks import Webhook

from chalicelib.jsonio import dumps
from tests.conftest import TEST_PAYMENT_WEBHOOK_SECRET


def payment_event(
    order_id: str, amount: Decimal | str, currency: str = "USD", payment_id: str | None = None
) -> dict[str, Any]:
    """A payment.succeeded body for an order."""
    data = {
        "order_id": order_id,
        "payment_id": payment_id or f"pay_{uuid.uuid4().hex[:12]}",
        "amount": Decimal(str(amount)),
        "currency": currency,
    }
    return {"type": "payment.succeeded", "data": data}


def signed_headers(
    body: bytes,
    secrets: tuple[str, ...] = (TEST_PAYMENT_WEBHOOK_SECRET,),
    webhook_id: str | None = None,
    age: timedelta = timedelta(0),
) -> dict[str, str]:
    """Headers of a delivery signed with every secret given (several during a rotation)."""
    msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    moment = datetime.now(UTC) - age
    signatures = " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signatures,
        "Content-Type": "application/json",
    }


def deliver(client: Client, event: dict[str, Any], **signing: Any) -> Any:
    """POST a signed delivery of `event` to the webhook route."""
    body = dumps(event).encode()
    return client.http.post("/payments/webhook", body=body, headers=signed_headers(body, **signing))
