"""/webhooks: a signed-in user subscribes to events about their own resources (an admin to
everyone's), lists and deletes their subscriptions, and reads each one's delivery attempts.

Checks run in this order: the path id, body, query and Idempotency-Key (400, the URL's SSRF
check included), then existence (404), then ownership (403).
"""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api.auth import caller, jwt_auth
from chalicelib.api.deps import get_table
from chalicelib.api.http import (
    IDEMPOTENCY_KEY_HEADER,
    ApiBlueprint,
    idempotency_key,
    json_response,
    no_content,
    parse_body,
    parse_query,
    path_id,
    replay_headers,
)
from chalicelib.config import get_settings
from chalicelib.models.common import Page, PageQuery
from chalicelib.models.webhooks import DeliveryPublic, WebhookCreate, WebhookCreated, WebhookPublic
from chalicelib.services import webhooks as service

bp = ApiBlueprint(__name__, tag="webhooks")


@bp.operation(
    "POST",
    "/webhooks",
    "Subscribe a URL to event types (the signing secret is shown only in this answer)",
    201,
    body=WebhookCreate,
    response=WebhookCreated,
    auth=jwt_auth,
    errors=(400, 409),
    headers=IDEMPOTENCY_KEY_HEADER,
)
def create_webhook() -> Response:
    """Subscribe: deliveries are signed with the returned `secret` (Standard Webhooks)."""
    request = bp.current_request
    who = caller(request)
    body = parse_body(request, WebhookCreate)
    key = idempotency_key(request.headers)
    made = service.create_webhook_once(get_table(), who, body, key, get_settings().webhook_urls_local)
    return json_response(made.value, 201, replay_headers(made.replayed))


@bp.operation(
    "GET",
    "/webhooks",
    "The caller's webhook subscriptions, newest first (no secrets)",
    query=PageQuery,
    response=Page[WebhookPublic],
    auth=jwt_auth,
    errors=(400,),
)
def list_webhooks() -> Response:
    """The caller's subscriptions."""
    request = bp.current_request
    return json_response(service.list_webhooks(get_table(), caller(request), parse_query(request, PageQuery)))


@bp.operation(
    "DELETE",
    "/webhooks/{webhook_id}",
    "Delete a webhook subscription (owner or admin)",
    204,
    auth=jwt_auth,
    errors=(400, 403, 404),
)
def delete_webhook(webhook_id: str) -> Response:
    """Unsubscribe."""
    service.delete_webhook(get_table(), caller(bp.current_request), path_id(webhook_id, "webhook_id"))
    return no_content()


@bp.operation(
    "GET",
    "/webhooks/{webhook_id}/deliveries",
    "A subscription's recent delivery attempts, newest first (owner or admin)",
    query=PageQuery,
    response=Page[DeliveryPublic],
    auth=jwt_auth,
    errors=(400, 403, 404),
)
def list_deliveries(webhook_id: str) -> Response:
    """Each attempt: time, event id, status code or error, latency (kept 7 days)."""
    request = bp.current_request
    who = caller(request)
    hook = path_id(webhook_id, "webhook_id")
    query = parse_query(request, PageQuery)
    return json_response(service.list_deliveries(get_table(), who, hook, query))
