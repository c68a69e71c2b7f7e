"""Webhook subscription use cases: subscribe, list, unsubscribe, list delivery attempts.
No chalice, no boto3.

Policy: any signed-in user subscribes to events about their own resources (scope "own");
an admin's subscription receives everyone's (scope "all"). A subscription is listed, read
and deleted by its owner or an admin. The URL is checked here (SSRF, chalicelib/webhooks.py)
and again at each delivery (services/webhook_delivery.py).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.clock import new_id, utc_now
from chalicelib.errors import (
    ForbiddenError,
    SessionEndedError,
    ValidationFailedError,
    WebhookLimitError,
    WebhookNotFoundError,
)
from chalicelib.models.common import PageQuery
from chalicelib.models.webhooks import (
    WebhookCreate,
    WebhookCreated,
    WebhookItem,
)
from chalicelib.services import idempotent
from chalicelib.services.caller import Caller
from chalicelib.services.idempotent import Seal
from chalicelib.store.pagination import PageRequest
from chalicelib.store.repository import Guard
from chalicelib.store.sessions import caller_checks
from chalicelib.store.table import Table
from chalicelib.store.views import JsonPage
from chalicelib.store.webhooks import DeliveryStore, Subscribed, WebhookStore
from chalicelib.webhooks import Resolver, WebhookUrlError, check_url, new_secret, resolve

# How many subscriptions one user may have: the delivery worker reads every enabled
# subscription for every event (store/webhooks.all_enabled), so without a bound one user could
# make every delivery slow for everyone. 25 is more than a client needs (one per receiving
# endpoint and event family) and keeps the fan-out's cost proportional to the users.
MAX_SUBSCRIPTIONS_PER_USER = 25


def _checked_url(url: str, local: bool, resolver: Resolver) -> str:
    try:
        check_url(url, local, resolver)
    except WebhookUrlError as exc:
        raise ValidationFailedError([{"loc": ["body", "url"], "msg": str(exc)}]) from exc
    return url


def create_webhook(
    table: Table,
    caller: Caller,
    data: WebhookCreate,
    local: bool,
    resolver: Resolver = resolve,
    now: datetime | None = None,
    seal: Seal | None = None,
) -> WebhookCreated:
    """A new subscription of the caller's (with a fresh signing secret, shown only here).

    Like a product, it is written with checks that the caller's user and session are live,
    and counted against the caller's MAX_SUBSCRIPTIONS_PER_USER in the same transaction.
    """
    url = _checked_url(data.url, local, resolver)
    moment = now or utc_now()
    webhook = WebhookItem(
        id=new_id(moment),
        owner_id=caller.user_id,
        url=url,
        events=data.events,
        scope="all" if caller.is_admin else "own",
        enabled=True,
        secret=new_secret(),
        created_at=moment,
        updated_at=moment,
    )
    checks = caller_checks(caller.user_id, caller.session_id, int(moment.timestamp()))
    sealed = seal(webhook.created()) if seal is not None else ()
    outcome = WebhookStore(table).subscribe(webhook, MAX_SUBSCRIPTIONS_PER_USER, checks, sealed)
    if outcome is Subscribed.FULL:
        raise WebhookLimitError(MAX_SUBSCRIPTIONS_PER_USER)
    if outcome is Subscribed.REFUSED:
        raise SessionEndedError()
    return webhook.created()


def create_webhook_once(
    table: Table,
    caller: Caller,
    data: WebhookCreate,
    key: str | None,
    local: bool,
    resolver: Resolver = resolve,
) -> idempotent.Created[WebhookCreated]:
    """create_webhook, at most once per Idempotency-Key (a replay shows the same secret)."""
    request = idempotent.keyed(caller.user_id, key, data)
    return idempotent.create_once(
        table,
        request,
        WebhookCreated,
        lambda seal: create_webhook(table, caller, data, local, resolver, seal=seal),
    )


def list_webhooks(table: Table, caller: Caller, query: PageQuery) -> JsonPage:
    """The caller's subscriptions, newest first (no secrets)."""
    return WebhookStore(table).public_page(PageRequest(query.limit, query.cursor), caller.user_id)


def _explain(old: WebhookItem | None, caller: Caller) -> Exception:
    if old is None:
        return WebhookNotFoundError()
    if not caller.owns(old.owner_id):
        return ForbiddenError()
    return WebhookNotFoundError()  # unreachable: a refused owner-or-admin delete of an existing item


def delete_webhook(table: Table, caller: Caller, webhook_id: str) -> None:
    """Unsubscribe (owner or admin): no delivery starts after this answers."""
    guard = Guard(owner=None if caller.is_admin else caller.user_id)
    result = WebhookStore(table).delete_if(webhook_id, guard)
    if result.refused:
        raise _explain(result.old, caller)


def list_deliveries(table: Table, caller: Caller, webhook_id: str, query: PageQuery) -> JsonPage:
    """A subscription's recent delivery attempts, newest first (owner or admin)."""
    webhook = WebhookStore(table).get(webhook_id)
    if webhook is None or not caller.owns(webhook.owner_id):
        raise _explain(webhook, caller)
    return DeliveryStore(table).public_page(PageRequest(query.limit, query.cursor), webhook_id)
