"""`make load`'s workload (run by tools/load_test.py, never imported by the API or the tests).

Each simulated shopper registers, logs in, and then browses, registers other accounts, logs in
again (and refreshes its token when the API has ``POST /auth/refresh``), creates and PATCHes its
own products with ``If-Match``, orders from the shared catalogue (some orders with an
``Idempotency-Key``, sent twice) and cancels some of its orders. Every request is written to
``LOAD_REQUESTS`` (time, name, latency, status); every order attempt and PATCH answer to
``LOAD_EVENTS``, for the invariant checks (tools/load_checks.py).
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

from locust import HttpUser, between, events, task

CATALOGUE: list[str] = json.loads(os.environ.get("LOAD_CATALOGUE", "[]"))
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
        return self.client.post("/users", json=body, name="/users").status_code in {201, 409}

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
        if response.status_code == 201:
            self.products.append(response.json()["id"])

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

    @task(1)
    def cancel(self) -> None:
        """Cancel one of one's orders."""
        if self.orders:
            order = self.orders.pop(rng.randrange(len(self.orders)))
            self.client.post(f"/orders/{order}/cancel", headers=self.headers, name="/orders/{id}/cancel")
