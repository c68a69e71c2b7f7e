"""An admin's subscription (scope "all") receives everyone's events only while its owner is
still an admin: once the admin is demoted or deleted, the fan-out appends nothing more to it
and an event already queued for it is not sent (docs/events.md "Who receives what",
docs/security.md "Revocation"). A user's own subscription is unaffected, and costs no read of
its owner. Against the real local engine and a real local receiver; a fake clock drives the
retries."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from chalice.test import Client

from chalicelib.config import get_settings
from chalicelib.errors import ServiceUnavailableError
from chalicelib.models.events import Deleted, new_event
from chalicelib.models.users import UserUpdate
from chalicelib.models.webhooks import WebhookCreate
from chalicelib.security.passwords import hasher_for, policy_for
from chalicelib.services import users as users_service
from chalicelib.services import webhooks as service
from chalicelib.services.webhook_delivery import OWNER_NOT_ADMIN
from chalicelib.store.table import Table
from chalicelib.webhook_worker import Worker
from tests.helpers import as_caller, bearer
from tests.integration.test_webhook_dispatch import (
    ADMIN,
    OTHER,
    OWNER,
    Clock,
    attempts,
    dispatcher,
    drain,
    product_event,
    subscribe,
)
from tools.webhook_receiver import Receiver

BOSS = "admin-9"  # another admin: the one who demotes ADMIN
TYPES = ["product.created", "product.updated"]


def set_role(client: Client, user_id: str, role: str) -> None:
    """PATCH /users/{id} {"role": ...} by another admin."""
    body = json.dumps({"role": role})
    response = client.http.patch(f"/users/{user_id}", headers=bearer(BOSS, "admin"), body=body)
    assert response.status_code == 200, response.body


@contextmanager
def user_reads(table: Table) -> Iterator[list[str]]:
    """The key (pk) of every GetItem of a user item made meanwhile."""
    seen: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        pk = params["Key"]["pk"]["S"]
        if pk.startswith("USER#"):
            seen.append(pk)

    event = "provide-client-params.dynamodb.GetItem"
    table.client.meta.events.register(event, record)
    try:
        yield seen
    finally:
        table.client.meta.events.unregister(event, record)


def test_an_admins_subscription_stops_receiving_others_events_once_the_admin_is_demoted(
    table: Table, client: Client, receiver: tuple[Receiver, str]
) -> None:
    # Given an admin's subscription, which receives another user's event
    state, url = receiver
    subscribe(table, state, url, ADMIN, TYPES)
    clock = Clock()
    d = dispatcher(table, clock)
    before = product_event(OTHER, "p1")
    assert d.publish([before]) == 1
    drain(d, clock)
    assert list(state.events) == [before.id]
    # When another admin demotes them (PATCH /users/{id} role user)
    set_role(client, ADMIN, "user")
    # Then another user's event no longer reaches their URL
    after = product_event(OTHER, "p2")
    assert d.publish([after]) == 0
    drain(d, clock, 3600)
    assert (list(state.events), d.pending()) == ([before.id], 0)
    # and once promoted again, it receives everyone's again (checked at each event)
    set_role(client, ADMIN, "admin")
    again = product_event(OTHER, "p3")
    assert d.publish([again]) == 1
    drain(d, clock)
    assert list(state.events) == [before.id, again.id]


def test_a_deleted_admins_subscription_receives_nothing(
    table: Table, client: Client, receiver: tuple[Receiver, str]
) -> None:
    # Given an admin's subscription, which receives another user's event
    state, url = receiver
    subscribe(table, state, url, ADMIN, [*TYPES, "user.deleted"])
    clock = Clock()
    d = dispatcher(table, clock)
    before = product_event(OTHER, "p1")
    assert d.publish([before]) == 1
    drain(d, clock)
    # When the admin is deleted (DELETE /users/{id} by another admin)
    response = client.http.delete(f"/users/{ADMIN}", headers=bearer(BOSS, "admin"))
    assert response.status_code == 204
    # Then nothing reaches their URL any more: other users' events, another user's deletion
    later = [
        product_event(OTHER, "p2"),
        product_event(OWNER, "p3", 2, "product.updated"),
        new_event("user.deleted", f"users/{OTHER}", Deleted(id=OTHER), "deleted", datetime.now(UTC)),
    ]
    assert d.publish(later) == 0
    drain(d, clock, 3600)
    assert (list(state.events), d.pending()) == ([before.id], 0)


def test_an_event_queued_before_the_demotion_is_not_sent_after_it(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given an event fanned out to an admin's subscription, whose first attempt failed (500)
    state, url = receiver
    state.fail_first = 1
    hook = subscribe(table, state, url, ADMIN, TYPES)
    clock = Clock()
    d = dispatcher(table, clock)
    event = product_event(OTHER, "p1")
    assert d.publish([event]) == 1
    drain(d, clock)
    assert (state.deliveries, list(state.events)) == (1, [])
    # When the admin is demoted (the service call) before the retry is due
    boss = as_caller(BOSS, "admin", table)
    hasher = hasher_for(policy_for(get_settings()))
    users_service.update_user(table, boss, ADMIN, lambda: UserUpdate(role="user"), hasher)
    drain(d, clock, 30)
    # Then the retry sends nothing: it is a failed attempt, recorded as refused, like a refused URL
    assert (state.deliveries, list(state.events)) == (1, [])
    latest = attempts(table, hook)[0]
    assert (latest.attempt, latest.status, latest.error) == (2, None, OWNER_NOT_ADMIN)


def test_a_users_own_subscription_is_unaffected_and_reads_no_user(
    table: Table, client: Client, receiver: tuple[Receiver, str]
) -> None:
    # Given a user's subscription (scope own) and an admin who is demoted
    state, url = receiver
    subscribe(table, state, url, OWNER, TYPES)
    as_caller(ADMIN, "admin", table)
    set_role(client, ADMIN, "user")
    clock = Clock()
    d = dispatcher(table, clock)
    mine, theirs = product_event(OWNER, "p1"), product_event(OTHER, "p2")
    # When their own resource's event and someone else's are published
    with user_reads(table) as reads:
        assert d.publish([mine, theirs]) == 1
        drain(d, clock)
    # Then they receive their own, as before, and no user item was read for it
    assert list(state.events) == [mine.id]
    assert reads == []


def test_each_all_subscriptions_owner_is_read_once_per_event(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given two subscriptions of one admin, one of another admin, and a user's
    state, url = receiver
    subscribe(table, state, url, ADMIN, TYPES)
    subscribe(table, state, url, ADMIN, ["product.created"])
    subscribe(table, state, url, OWNER, TYPES)
    second = as_caller(BOSS, "admin", table)
    service.create_webhook(table, second, WebhookCreate(url=url, events=TYPES), local=True)
    worker = Worker(table, lambda body, delay: None, local=True)
    # When one event is fanned out
    with user_reads(table) as reads:
        matched = worker.fan_out(product_event(OWNER, "p1"))
    # Then it reaches all four, and each admin's user item was read once
    assert matched == 4
    assert sorted(reads) == [f"USER#{ADMIN}", f"USER#{BOSS}"]


def test_an_owner_that_cannot_be_read_postpones_the_fan_out_rather_than_skipping_it(
    table: Table, receiver: tuple[Receiver, str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given an admin's subscription, and DynamoDB throttling every read of a user item
    caplog.set_level(logging.WARNING, logger="storefront")
    state, url = receiver
    subscribe(table, state, url, ADMIN, TYPES)
    clock = Clock()
    d = dispatcher(table, clock)
    event = product_event(OTHER, "p1")

    def throttled(params: dict[str, Any], **_: Any) -> Any:
        if b"USER#" not in params["body"]:
            return None
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
        return AWSResponse("http://engine", 400, HTTPHeaders(), None), {
            "Error": error,
            "ResponseMetadata": {},
        }

    table.client.meta.events.register("before-call.dynamodb.GetItem", throttled)
    try:
        # When the event is published: the fan-out waits (it neither sends nor drops it)
        assert d.publish([event]) == 0
        drain(d, clock)
        assert list(state.events) == []
        (postponed,) = [r for r in caplog.records if r.getMessage() == "webhook fan-out postponed"]
        assert postponed.exc_info is not None
        assert isinstance(postponed.exc_info[1], ServiceUnavailableError)  # the owner's read
    finally:
        table.client.meta.events.unregister("before-call.dynamodb.GetItem", throttled)
    # Then at the next poll, with the owner readable again, it goes out
    assert d.publish([]) == 1
    drain(d, clock)
    assert list(state.events) == [event.id]
