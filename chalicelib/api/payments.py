"""Payments: POST /payments/webhook — the payment provider's signed notifications."""

from __future__ import annotations

import re

from chalice.app import Response

from chalicelib.api.deps import get_table
from chalicelib.api.http import ApiBlueprint, json_response, parse_body
from chalicelib.errors import ValidationFailedError
from chalicelib.models.payments import PaymentAck, PaymentEvent
from chalicelib.security.webhooks import get_payment_webhooks
from chalicelib.services import payments

bp = ApiBlueprint(__name__)

_WEBHOOK_ID = re.compile(r"^[\x21-\x7e]{1,255}$")


@bp.operation(
    "POST",
    "/payments/webhook",
    "Payment provider notification (Standard Webhooks signature; no JWT)",
    body=PaymentEvent,
    response=PaymentAck,
    errors=(400, 401, 404, 422),
    headers={
        "webhook-id": "The delivery's id: the same id again changes nothing",
        "webhook-timestamp": "Seconds since the epoch; more than 5 minutes off → 401",
        "webhook-signature": "v1,<base64 HMAC-SHA256> (several, space-separated, during a rotation)",
    },
)
def payment_webhook() -> Response:
    """Apply a signed payment.succeeded: the signature first (401), then the body (400)."""
    request = bp.current_request
    webhook_id = payments.verify_delivery(get_payment_webhooks(), request.raw_body or b"", request.headers)
    if not _WEBHOOK_ID.match(webhook_id):
        raise ValidationFailedError(
            [{"loc": ["header", "webhook-id"], "msg": "Must be 1 to 255 visible ASCII characters"}]
        )
    body = parse_body(request, PaymentEvent)
    return json_response(payments.apply_payment(get_table(), webhook_id, body))
