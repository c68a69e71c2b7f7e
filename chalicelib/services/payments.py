"""Use case of the payment provider: a signed `payment.succeeded` webhook pays an order.

Called by the provider, not by a user: no Caller, no JWT. The delivery is authenticated
by its Standard Webhooks signature (`verify_delivery`, before the body is even parsed);
then `apply_payment` decides, from the order as read, which ONE conditional write to make
(store/orders.py: `pay` or `flag_refund`, each with the webhook's receipt in the same
transaction, so a webhook-id is applied once however often it is delivered).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from chalicelib.clock import isoformat, utc_now
from chalicelib.errors import (
    InvalidWebhookSignatureError,
    OrderNotFoundError,
    PaymentMismatchError,
    ServiceUnavailableError,
)
from chalicelib.models.payments import PaymentAck, PaymentEvent, PaymentOutcome
from chalicelib.observability import business_event
from chalicelib.retry import TryAgain
from chalicelib.store import keys
from chalicelib.store.orders import OrderStore, Payment, PaymentFacts, after, announced, receipt_action
from chalicelib.store.table import Table

if TYPE_CHECKING:
    from standardwebhooks.webhooks import Webhook

logger = logging.getLogger("storefront")


def verify_delivery(webhooks: Sequence[Webhook], body: bytes | str, headers: Mapping[str, str]) -> str:
    """The delivery's webhook-id, if any accepted secret signed this body with these headers
    (and its timestamp is within 5 minutes); InvalidWebhookSignatureError otherwise."""
    from standardwebhooks.webhooks import WebhookVerificationError

    wanted = {
        name: headers.get(name) or "" for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    for webhook in webhooks:
        try:
            webhook.verify(body, wanted, json_parse=False)
        except WebhookVerificationError:
            continue
        return wanted["webhook-id"]
    raise InvalidWebhookSignatureError()


def apply_payment(table: Table, webhook_id: str, event: PaymentEvent) -> PaymentAck:
    """Apply a verified payment: placed → paid; a payment for an order no longer payable →
    refund_due (status kept); the same webhook-id again → nothing; amount or currency not
    the order's → PaymentMismatchError, nothing written."""
    orders, data = OrderStore(table), event.data

    def attempt(_: int) -> PaymentAck:
        if table.get(keys.webhook_receipt_key(webhook_id)) is not None:
            return PaymentAck(outcome="duplicate")
        order = orders.get(data.order_id)
        if order is None:
            logger.warning(
                "payment for an unknown order", extra={"order_id": data.order_id, "webhook_id": webhook_id}
            )
            raise OrderNotFoundError()
        if order.total != data.amount or order.currency != data.currency:
            logger.warning(
                "payment does not match its order; left for the operator",
                extra={"order_id": order.id, "webhook_id": webhook_id, "payment_id": data.payment_id},
            )
            raise PaymentMismatchError()
        now = utc_now()
        receipt = receipt_action(webhook_id, order.id, int(time.time()))
        outcome: PaymentOutcome
        if order.effective_status(now) == "placed":
            facts = PaymentFacts(data.payment_id, data.amount, data.currency, isoformat(now))
            paid = after(order, "paid", facts.now, changes={"payment_id": data.payment_id})
            result, outcome = orders.pay(order.id, facts, receipt, [announced("order.paid", paid)]), "paid"
        elif order.payment_id == data.payment_id:
            return PaymentAck(outcome="already_paid")  # the same payment, told under another webhook-id
        else:
            result, outcome = orders.flag_refund(order.id, isoformat(now), receipt), "refund_due"
        if result is Payment.DUPLICATE:
            return PaymentAck(outcome="duplicate")
        if result is Payment.ORDER_CHANGED:
            raise TryAgain()  # paid, cancelled or expired meanwhile: decide again
        business_event("order_paid" if outcome == "paid" else "payment_refund_due")
        return PaymentAck(outcome=outcome)

    return table.retry.run(attempt, _contention)


def _contention() -> Exception:
    return ServiceUnavailableError(retry_after=1, message="Too much contention on this order, retry")
