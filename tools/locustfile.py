"""`make load`'s workload (run by tools/load_test.py, never imported by the API or the tests).

Each simulated shopper registers, logs in, and then browses, registers other accounts, logs in
again (and refreshes its token when the API has ``POST /auth/refresh``), creates and PATCHes its
own products with ``If-Match`` (sometimes again with the stale one: 412, an aborted write
that must announce nothing) and deletes some, orders from the shared catalogue (some orders with an
``Idempotency-Key``, sent twice), pays some of them (a signed payment webhook, as the
provider would; some deliveries sent twice), has an admin ship and deliver paid ones, cancels
some, and leaves the rest unpaid to expire (the stack runs with a short payment window).
Every request is written to
``LOAD_REQUESTS`` (time, name, latency, status); every write's answer (registration, product
created, patched, deleted, order placed, paid, cancelled, shipped, delivered) to
``LOAD_EVENTS``, for the invariant checks (tools/load_checks.py) and the event count
(tools/load_events.py).
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

from locust import HttpUser, between, events, task

CATALOGUE: list[str] = json.loads(os.environ.get("LOAD_CATALOGUE", "[]"))
WEBHOOK_SECRET = os.environ.get("LOAD_WEBHOOK_SECRET", "")
ADMIN: dict[str, str] = json.loads(os.environ.get("LOAD_ADMIN", "{}"))
rng = random.SystemRandom()  # not for secrets: SystemRandom only keeps the linter's rule simple
PASSWORD = "load-test-password-123"  # noqa: S105 - throwaway accounts on a throwaway stack
_requests = open(os.environ.get("LOAD_REQUESTS", os.devnull), "a", encoding="utf-8")  # noqa: SIM115
_events = open(os.environ.get("LOAD_EVENTS", os.devnull), "a", encoding="utf-8")  # noqa: SIM115


def _record(
    request_type: str, name: str, response_time: float, response: Any, start_time: float, **_: Any
) -> None:
    status = getattr(response, "status_code", 0) or 0
    line = {
        "t": start_time,
        "name": f"{request_type} {name}",
        "ms": round(response_time, 2),
        "status": status,
    }
    _requests.write(json.dumps(line) + "\n")
    _requests.flush()


events.request.add_listener(_record)  # type: ignore[no-untyped-call]


def _event(**fields: Any) -> None:
    _events.write(json.dumps(fields) + "\n")
    _events.flush()


class Shopper(HttpUser):
    """One simulated client: browses, registers, signs in, sells, buys and cancels."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        """Register and sign in once, with a product of one's own to edit."""
        self.email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.headers: dict[str, str] = {}
        self.refresh_token: str | None = None
        self.products: list[str] = []
        self.orders: list[str] = []
        self.totals: dict[str, tuple[Any, str]] = {}  # order id → (total, currency) to pay
        self.paid: list[str] = []
        self.shipped: list[str] = []
        self.admin: dict[str, str] = {}
        while not self._register(self.email):  # the engine may be down: the account must exist
            self.wait()  # type: ignore[no-untyped-call]
        _event(kind="user", user=self.email, password=PASSWORD)
        while not self._login():
            self.wait()  # type: ignore[no-untyped-call]
        self.has_refresh = self.client.post(
            "/auth/refresh", json={"refresh_token": "probe"}, name="/auth/refresh (probe)"
        ).status_code not in {403, 404}

    def _register(self, email: str) -> bool:
        body = {"email": email, "password": PASSWORD, "name": "Load"}
        response = self.client.post("/users", json=body, name="/users")
        user_id = response.json().get("id") if response.status_code == 201 else None
        _event(kind="register", status=response.status_code, id=user_id)
        return response.status_code in {201, 409}

    def _login(self) -> bool:
        response = self.client.post("/auth/token", json={"email": self.email, "password": PASSWORD})
        return self._take_tokens(response)

    def _take_tokens(self, response: Any) -> bool:
        if response.status_code != 200:
            return False
        body = response.json()
        self.headers = {"Authorization": f"Bearer {body['access_token']}"}
        self.refresh_token = body.get("refresh_token")
        return True

    @task(6)
    def browse(self) -> None:
        """List products and open one."""
        self.client.get("/products?limit=10", name="/products")
        self.client.get(f"/products/{rng.choice(CATALOGUE)}", name="/products/{id}")

    @task(1)
    def register(self) -> None:
        """Register a new user."""
        self._register(f"load-{uuid.uuid4().hex[:12]}@example.com")

    @task(1)
    def login(self) -> None:
        """Sign in again."""
        self._login()

    @task(1)
    def refresh(self) -> None:
        """Rotate the refresh token (when the route exists)."""
        if self.has_refresh and self.refresh_token:
            response = self.client.post("/auth/refresh", json={"refresh_token": self.refresh_token})
            if not self._take_tokens(response) and response.status_code == 401:
                self._login()  # a refresh that failed during the fault ends the session: start anew

    @task(1)
    def create_product(self) -> None:
        """Create a product."""
        body = {"name": "Load item", "price": 9.5, "stock": 10}
        response = self.client.post("/products", json=body, headers=self.headers)
        product_id = response.json().get("id") if response.status_code == 201 else None
        _event(kind="create", status=response.status_code, id=product_id)
        if product_id:
            self.products.append(product_id)

    @task(2)
    def patch_product(self) -> None:
        """Change one's own product with If-Match."""
        if not self.products:
            return
        product = rng.choice(self.products)
        current = self.client.get(f"/products/{product}", name="/products/{id}")
        if current.status_code != 200:
            return
        headers = {**self.headers, "If-Match": current.headers["ETag"]}
        body = {"price": round(rng.uniform(1, 99), 2)}
        response = self.client.patch(
            f"/products/{product}", json=body, headers=headers, name="/products/{id}"
        )
        version = response.json().get("version") if response.status_code == 200 else None
        _event(kind="patch", product=product, status=response.status_code, version=version)
        if version is not None and rng.random() < 0.25:  # the old ETag again: refused (412)
            stale = self.client.patch(
                f"/products/{product}", json=body, headers=headers, name="/products/{id} (stale If-Match)"
            )
            _event(kind="patch", product=product, status=stale.status_code, version=None)

    @task(1)
    def delete_product(self) -> None:
        """Delete one's own product with If-Match (one attempt per product, whatever the answer)."""
        if not self.products:
            return
        product = self.products.pop(rng.randrange(len(self.products)))
        current = self.client.get(f"/products/{product}", name="/products/{id}")
        if current.status_code != 200:
            return
        version = int(current.headers["ETag"].strip('W/"'))
        headers = {**self.headers, "If-Match": current.headers["ETag"]}
        response = self.client.delete(f"/products/{product}", headers=headers, name="/products/{id}")
        # Recorded with the version it named: a DELETE that committed unanswered did so at it.
        _event(kind="delete", product=product, status=response.status_code, version=version)

    @task(4)
    def order(self) -> None:
        """Order a product (with an Idempotency-Key, retried once)."""
        picks = rng.sample(CATALOGUE, k=rng.choice([1, 2]))
        body = {"items": [{"product_id": p, "quantity": rng.randint(1, 3)} for p in picks]}
        key = uuid.uuid4().hex if rng.random() < 0.3 else None
        for _attempt in range(2 if key else 1):  # an idempotent order is sent twice: one order
            headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
            response = self.client.post("/orders", json=body, headers=headers)
            order_id = response.json().get("id") if response.status_code == 201 else None
            _event(kind="order", user=self.email, key=key, status=response.status_code, id=order_id)
            if order_id and order_id not in self.orders:
                self.orders.append(order_id)
                self.totals[order_id] = (response.json()["total"], response.json()["currency"])

    @task(1)
    def cancel(self) -> None:
        """Cancel one of one's orders."""
        if self.orders:
            order = self.orders.pop(rng.randrange(len(self.orders)))
            response = self.client.post(
                f"/orders/{order}/cancel", headers=self.headers, name="/orders/{id}/cancel"
            )
            _event(kind="cancel", order=order, status=response.status_code)

    @task(4)
    def pay(self) -> None:
        """The payment provider confirms one of one's orders (a signed webhook; sometimes twice)."""
        unpaid = [o for o in self.orders if o in self.totals]
        if not unpaid or not WEBHOOK_SECRET:
            return
        order = rng.choice(unpaid)
        total, currency = self.totals.pop(order)
        body, headers = _signed_payment(order, total, currency)
        for _attempt in range(2 if rng.random() < 0.2 else 1):  # a redelivery changes nothing
            response = self.client.post("/payments/webhook", data=body, headers=headers)
            outcome = response.json().get("outcome") if response.status_code == 200 else None
            _event(kind="payment", order=order, status=response.status_code, outcome=outcome)
            if outcome == "paid":
                self.paid.append(order)

    @task(3)
    def ship(self) -> None:
        """An admin ships a paid order, or delivers a shipped one."""
        if not self._as_admin():
            return
        if self.shipped and rng.random() < 0.5:
            order = self.shipped.pop()
            response = self.client.post(
                f"/orders/{order}/deliver", headers=self.admin, name="/orders/{id}/deliver"
            )
            _event(kind="deliver", order=order, status=response.status_code)
        elif self.paid:
            order = self.paid.pop(rng.randrange(len(self.paid)))
            body = {"carrier": "Load Post", "tracking_number": uuid.uuid4().hex[:12]}
            response = self.client.post(
                f"/orders/{order}/ship", json=body, headers=self.admin, name="/orders/{id}/ship"
            )
            _event(kind="ship", order=order, status=response.status_code)
            if response.status_code == 200:
                self.shipped.append(order)

    def _as_admin(self) -> bool:
        if not self.admin and ADMIN:
            response = self.client.post("/auth/token", json=ADMIN, name="/auth/token (admin)")
            if response.status_code == 200:
                self.admin = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return bool(self.admin)


def _signed_payment(order: str, total: Any, currency: str) -> tuple[bytes, dict[str, str]]:
    from datetime import UTC, datetime
    from decimal import Decimal

    from standardwebhooks.webhooks import Webhook

    event = {
        "type": "payment.succeeded",
        "data": {
            "order_id": order,
            "payment_id": f"pay_{uuid.uuid4().hex[:12]}",
            "amount": "AMOUNT",
            "currency": currency,
        },
    }
    # The amount as the exact JSON number the order showed (never through a float).
    body = json.dumps(event).replace('"AMOUNT"', str(Decimal(str(total)))).encode()
    webhook_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(WEBHOOK_SECRET).sign(webhook_id, now, body),
    }
    return body, headers
