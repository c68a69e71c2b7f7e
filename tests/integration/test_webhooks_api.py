"""Webhook subscriptions through chalice's test client and the real local engine: subscribe
(secret once, Idempotency-Key), list (own, no secrets), delete (owner or admin), deliveries,
validation and the SSRF refusals at subscribe time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.errors import ValidationFailedError
from chalicelib.models.webhooks import DeliveryItem, WebhookCreate
from chalicelib.services import webhooks as service
from chalicelib.store.table import Table
from chalicelib.store.webhooks import DeliveryStore
from tests.helpers import as_caller, bearer, json_body

OWNER, OTHER, ADMIN = "owner-1", "other-2", "admin-3"
HOOK = {"url": "http://127.0.0.1:9000/hook", "events": ["order.paid", "product.created"]}


def send(client: Client, method: str, path: str, user: str | None, body: Any = None, **headers: str) -> Any:
    all_headers = {
        "Content-Type": "application/json",
        **(bearer(user, "admin" if user == ADMIN else "user") if user else {}),
        **headers,
    }
    payload = json.dumps(body).encode() if body is not None else b""
    return client.http.request(method, path, headers=all_headers, body=payload)


def subscribe(client: Client, user: str = OWNER, body: Any = None) -> dict[str, Any]:
    response = send(client, "POST", "/webhooks", user, body or HOOK)
    assert response.status_code == 201, response.body
    return dict(json_body(response))


def test_subscribe_answers_201_with_a_standard_webhooks_secret_shown_once(client: Client) -> None:
    made = subscribe(client)
    assert made["secret"].startswith("whsec_")
    assert (made["url"], made["events"], made["scope"], made["enabled"]) == (
        HOOK["url"],
        HOOK["events"],
        "own",
        True,
    )
    listed = json_body(send(client, "GET", "/webhooks", OWNER))
    assert [hook["id"] for hook in listed["items"]] == [made["id"]]
    assert "secret" not in listed["items"][0]
    assert listed["next_cursor"] is None


def test_an_admins_subscription_receives_everyones_events(client: Client) -> None:
    assert subscribe(client, ADMIN)["scope"] == "all"


def test_the_list_holds_only_the_callers_subscriptions_newest_first(client: Client) -> None:
    first, second = subscribe(client), subscribe(client)
    subscribe(client, OTHER)
    listed = json_body(send(client, "GET", "/webhooks?limit=1", OWNER))
    assert [hook["id"] for hook in listed["items"]] == [second["id"]]
    rest = json_body(send(client, "GET", f"/webhooks?limit=1&cursor={listed['next_cursor']}", OWNER))
    assert [hook["id"] for hook in rest["items"]] == [first["id"]]


def test_the_same_idempotency_key_replays_the_first_subscription_and_its_secret(client: Client) -> None:
    first = send(client, "POST", "/webhooks", OWNER, HOOK, **{"Idempotency-Key": "hook-1"})
    again = send(client, "POST", "/webhooks", OWNER, HOOK, **{"Idempotency-Key": "hook-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert json_body(again) == json_body(first)
    assert again.headers["Idempotent-Replayed"] == "true"
    other_body = {**HOOK, "events": ["order.placed"]}
    assert (
        send(client, "POST", "/webhooks", OWNER, other_body, **{"Idempotency-Key": "hook-1"}).status_code
        == 409
    )
    assert len(json_body(send(client, "GET", "/webhooks", OWNER))["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"url": "file:///etc/passwd", "events": ["order.paid"]},
        {"url": "ftp://127.0.0.1/x", "events": ["order.paid"]},
        {"url": "http://169.254.169.254/latest/meta-data/", "events": ["order.paid"]},
        {"url": "https://169.254.169.254/latest/meta-data/", "events": ["order.paid"]},
        {"url": "https://10.0.0.1/hook", "events": ["order.paid"]},
        {"url": "http://10.0.0.1/hook", "events": ["order.paid"]},
        {"url": "https://127.0.0.1/hook", "events": ["order.paid"]},
        {"url": "http://127.0.0.1:9000/hook", "events": []},
        {"url": "http://127.0.0.1:9000/hook", "events": ["order.teleported"]},
        {"url": "http://127.0.0.1:9000/hook", "events": ["order.paid", "order.paid"]},
        {"url": "http://127.0.0.1:9000/hook"},
        {"url": "http://127.0.0.1:9000/hook", "events": ["order.paid"], "secret": "mine"},
        {"url": "x" * 2049, "events": ["order.paid"]},
        {"url": "http://127.0.0.1:99999/hook", "events": ["order.paid"]},
        {"url": "https://example.com:99999/hook", "events": ["order.paid"]},
        {"url": "http://127.0.0.1:9000/a b", "events": ["order.paid"]},
        {"url": "http://127.0.0.1:9000/a\r\nX-Injected: 1", "events": ["order.paid"]},
        {"url": "https://exämple.com/hook", "events": ["order.paid"]},
    ],
)
def test_unsafe_urls_and_bad_bodies_are_400_and_nothing_is_stored(client: Client, body: Any) -> None:
    response = send(client, "POST", "/webhooks", OWNER, body)
    assert response.status_code == 400, response.body
    assert json_body(response)["code"] == "validation_error"
    assert json_body(send(client, "GET", "/webhooks", OWNER))["items"] == []


def test_an_ssrf_refusal_names_the_url_field(client: Client) -> None:
    response = send(
        client, "POST", "/webhooks", OWNER, {"url": "https://10.0.0.1/", "events": ["order.paid"]}
    )
    details = json_body(response)["details"]
    assert details[0]["loc"] == ["body", "url"]
    assert "public address" in details[0]["msg"]


def test_deployed_a_name_resolving_to_loopback_and_plain_http_are_refused(table: Table) -> None:
    caller = as_caller(OWNER, table=table)
    for url in ("https://localhost/hook", "http://127.0.0.1:9000/hook", "https://10.0.0.1/"):
        with pytest.raises(ValidationFailedError):
            service.create_webhook(table, caller, WebhookCreate(url=url, events=["order.paid"]), local=False)
    public = service.create_webhook(
        table,
        caller,
        WebhookCreate(url="https://hooks.example.com/in", events=["order.paid"]),
        local=False,
        resolver=lambda host, port: ["93.184.216.34"],
    )
    assert public.url == "https://hooks.example.com/in"


def test_subscribing_needs_a_token(client: Client) -> None:
    assert send(client, "POST", "/webhooks", None, HOOK).status_code == 401


def test_delete_by_the_owner_is_204_then_404(client: Client) -> None:
    made = subscribe(client)
    assert send(client, "DELETE", f"/webhooks/{made['id']}", OWNER).status_code == 204
    assert send(client, "DELETE", f"/webhooks/{made['id']}", OWNER).status_code == 404
    assert json_body(send(client, "GET", "/webhooks", OWNER))["items"] == []


def test_delete_by_someone_else_is_403_and_by_an_admin_204(client: Client) -> None:
    made = subscribe(client)
    assert send(client, "DELETE", f"/webhooks/{made['id']}", OTHER).status_code == 403
    assert send(client, "DELETE", f"/webhooks/{made['id']}", ADMIN).status_code == 204


def test_a_malformed_id_is_400(client: Client) -> None:
    assert send(client, "DELETE", "/webhooks/bad%20id", OWNER).status_code == 400
    assert send(client, "GET", "/webhooks/bad%20id/deliveries", OWNER).status_code == 400


def test_deliveries_are_listed_newest_first_to_the_owner_and_admins_only(
    client: Client, table: Table
) -> None:
    made = subscribe(client)
    store = DeliveryStore(table)
    for attempt, status in ((1, None), (2, 500), (3, 204)):
        store.record(
            DeliveryItem(
                webhook_id=made["id"],
                time=datetime(2026, 12, 4, 9, 0, attempt, tzinfo=UTC),
                event_id="e1",
                event_type="order.paid",
                attempt=attempt,
                status=status,
                error="TimeoutError" if status is None else None,
                latency_ms=12,
                expires_at=2_000_000_000,
            )
        )
    page = json_body(send(client, "GET", f"/webhooks/{made['id']}/deliveries", OWNER))
    assert [(d["attempt"], d["status"], d["error"]) for d in page["items"]] == [
        (3, 204, None),
        (2, 500, None),
        (1, None, "TimeoutError"),
    ]
    assert page["items"][0]["event_id"] == "e1"
    assert page["items"][0]["latency_ms"] == 12
    assert send(client, "GET", f"/webhooks/{made['id']}/deliveries", OTHER).status_code == 403
    assert send(client, "GET", f"/webhooks/{made['id']}/deliveries", ADMIN).status_code == 200
    assert send(client, "GET", "/webhooks/nope/deliveries", OWNER).status_code == 404
