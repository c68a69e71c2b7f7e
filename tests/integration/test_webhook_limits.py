"""The per-user limit on webhook subscriptions (a counter written in the subscription's own
transaction) and a fan-out that reads every subscription: the 26th subscription is a 409 and
writes nothing, a deletion frees its slot, concurrent creations never pass the limit, an
ended session is still a 401, subscriptions made before the counter keep working, the
oldest of more than 1,000 subscriptions still receives its events, and a fault at any
DynamoDB call leaves the subscription and its count together or neither."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.api.errors import status_for
from chalicelib.clock import new_id
from chalicelib.config import get_settings
from chalicelib.errors import SessionEndedError, WebhookLimitError
from chalicelib.models.events import new_event
from chalicelib.models.products import ProductPublic
from chalicelib.models.webhooks import WebhookCreate, WebhookItem
from chalicelib.security.keys import get_keyring
from chalicelib.services import sessions as session_service
from chalicelib.services import webhooks as service
from chalicelib.services.caller import Caller
from chalicelib.services.webhooks import MAX_SUBSCRIPTIONS_PER_USER
from chalicelib.store import keys
from chalicelib.store.codec import to_attributes
from chalicelib.store.table import Table
from chalicelib.store.webhooks import WebhookStore
from chalicelib.webhook_worker import Worker
from manage import scan_all
from tests.helpers import as_caller, bearer, ensure_user, json_body, token_for
from tests.integration import test_faults_atomicity as atomicity
from tests.integration.test_faults_atomicity import Scenario, user

OWNER, OTHER, ADMIN = "owner-1", "other-2", "admin-3"
HOOK = {"url": "http://127.0.0.1:9000/hook", "events": ["order.paid"]}
LIMIT_MESSAGE = f"at most {MAX_SUBSCRIPTIONS_PER_USER} webhook subscriptions per user"


def post(client: Client, headers: dict[str, str], body: Any = None) -> Any:
    return client.http.post("/webhooks", headers=headers, body=json.dumps(body or HOOK))


def delete(client: Client, headers: dict[str, str], webhook_id: str) -> Any:
    return client.http.delete(f"/webhooks/{webhook_id}", headers=headers)


def fill(client: Client, headers: dict[str, str], count: int = MAX_SUBSCRIPTIONS_PER_USER) -> list[str]:
    made = []
    for _ in range(count):
        response = post(client, headers)
        assert response.status_code == 201, response.body
        made.append(json_body(response)["id"])
    return made


def counted(table: Table, owner_id: str) -> int | None:
    item = table.get(keys.webhook_count_key(owner_id))
    return None if item is None else int(item["n"])


def subscriptions(table: Table, owner_id: str) -> list[dict[str, Any]]:
    return [
        item
        for item in scan_all(table)
        if item.get("type") == {"S": "webhook"} and item["owner_id"] == {"S": owner_id}
    ]


def legacy(owner_id: str, created_at: datetime, events: list[str], n: int = 0) -> WebhookItem:
    """A subscription as the code before the limit wrote it (no `counted`, no counter)."""
    return WebhookItem(
        id=new_id(created_at),
        owner_id=owner_id,
        url=f"http://127.0.0.1:9/{owner_id}/{n}",
        events=events,
        scope="own",
        enabled=True,
        secret="whsec_bGVnYWN5",
        created_at=created_at,
        updated_at=created_at,
    )


def write_directly(table: Table, items: list[WebhookItem]) -> None:
    """Subscriptions written straight to the table, 25 a call (BatchWriteItem)."""
    store = WebhookStore(table)
    rows: list[Any] = [{"PutRequest": {"Item": to_attributes(store.to_item(item))}} for item in items]
    for start in range(0, len(rows), 25):
        answer = table.client.batch_write_item(RequestItems={table.name: rows[start : start + 25]})
        assert not answer.get("UnprocessedItems"), answer


# --- the limit ----------------------------------------------------------------------------


def test_the_26th_subscription_is_409_with_the_error_body_and_writes_nothing(
    client: Client, table: Table
) -> None:
    # Given a user with as many subscriptions as one user may have
    headers = bearer(OWNER)
    fill(client, headers)
    before = Counter(json.dumps(item, sort_keys=True) for item in scan_all(table))
    # When they subscribe once more
    refused = post(client, headers)
    # Then the answer is the conflict envelope naming the limit, and nothing was written
    assert refused.status_code == 409, refused.body
    body = json_body(refused)
    assert body["code"] == "conflict"
    assert LIMIT_MESSAGE in body["error"]
    assert Counter(json.dumps(item, sort_keys=True) for item in scan_all(table)) == before
    assert counted(table, OWNER) == MAX_SUBSCRIPTIONS_PER_USER
    assert len(subscriptions(table, OWNER)) == MAX_SUBSCRIPTIONS_PER_USER


def test_deleting_a_subscription_frees_its_slot(client: Client, table: Table) -> None:
    headers = bearer(OWNER)
    made = fill(client, headers)
    assert delete(client, headers, made[0]).status_code == 204
    assert counted(table, OWNER) == MAX_SUBSCRIPTIONS_PER_USER - 1
    assert post(client, headers).status_code == 201
    assert post(client, headers).status_code == 409
    assert counted(table, OWNER) == MAX_SUBSCRIPTIONS_PER_USER


def test_an_admin_deleting_a_users_subscription_frees_the_owners_slot(client: Client, table: Table) -> None:
    made = fill(client, bearer(OWNER))
    assert delete(client, bearer(ADMIN, "admin"), made[3]).status_code == 204
    assert counted(table, OWNER) == MAX_SUBSCRIPTIONS_PER_USER - 1
    assert counted(table, ADMIN) is None


def test_someone_elses_delete_is_refused_and_leaves_the_count(client: Client, table: Table) -> None:
    made = fill(client, bearer(OWNER), 2)
    assert delete(client, bearer(OTHER), made[0]).status_code == 403
    assert delete(client, bearer(OWNER), "01KBQ3Z7P0N0SUCHH00K000000").status_code == 404
    assert counted(table, OWNER) == 2
    assert len(subscriptions(table, OWNER)) == 2


@pytest.mark.slow
def test_concurrent_creations_never_pass_the_limit(client: Client, table: Table) -> None:
    headers = bearer(OWNER)
    fill(client, headers, MAX_SUBSCRIPTIONS_PER_USER - 5)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: post(client, headers).status_code, range(16)))
    assert sorted(answers) == [201] * 5 + [409] * 11, answers
    assert len(subscriptions(table, OWNER)) == MAX_SUBSCRIPTIONS_PER_USER
    assert counted(table, OWNER) == MAX_SUBSCRIPTIONS_PER_USER


def test_another_user_is_unaffected_by_a_full_one(client: Client, table: Table) -> None:
    fill(client, bearer(OWNER))
    assert post(client, bearer(OWNER)).status_code == 409
    assert post(client, bearer(OTHER)).status_code == 201
    assert counted(table, OTHER) == 1


def test_an_ended_session_at_the_limit_is_401_not_409(table: Table) -> None:
    # Given a full user whose session then ended (its check and the full count both refuse)
    user_row = ensure_user(OWNER, table=table)
    tokens = session_service.start_session(table, user_row, get_keyring(), get_settings(), int(time.time()))
    caller = Caller(user_id=OWNER, role="user", session_id=tokens.refresh_token.split(".")[1])
    for _ in range(MAX_SUBSCRIPTIONS_PER_USER):
        service.create_webhook(table, caller, WebhookCreate.model_validate(HOOK), local=True)
    session_service.logout(table, caller)
    before = Counter(json.dumps(item, sort_keys=True) for item in scan_all(table))
    # When it subscribes once more, the session is judged first: 401, nothing written
    with pytest.raises(SessionEndedError) as refused:
        service.create_webhook(table, caller, WebhookCreate.model_validate(HOOK), local=True)
    assert status_for(refused.value) == (401, "unauthorized")
    assert Counter(json.dumps(item, sort_keys=True) for item in scan_all(table)) == before


def test_a_full_count_is_409_from_the_service(table: Table) -> None:
    caller = as_caller(OWNER, table=table)
    for _ in range(MAX_SUBSCRIPTIONS_PER_USER):
        service.create_webhook(table, caller, WebhookCreate.model_validate(HOOK), local=True)
    with pytest.raises(WebhookLimitError, match=LIMIT_MESSAGE) as refused:
        service.create_webhook(table, caller, WebhookCreate.model_validate(HOOK), local=True)
    assert status_for(refused.value) == (409, "conflict")


def test_subscriptions_made_before_the_counter_keep_working(client: Client, table: Table) -> None:
    # Given a user with 30 subscriptions written by the code before the limit (no counter)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    old = [legacy(OWNER, start + timedelta(seconds=n), ["order.paid"], n) for n in range(30)]
    write_directly(table, old)
    headers = bearer(OWNER)
    # When they subscribe: the missing counter is 0, the new one is counted
    made = post(client, headers)
    assert made.status_code == 201, made.body
    assert counted(table, OWNER) == 1
    # And deleting an old (uncounted) one leaves the count alone
    assert delete(client, headers, old[0].id).status_code == 204
    assert counted(table, OWNER) == 1
    # And deleting the counted one takes it back to 0 (never below)
    assert delete(client, headers, json_body(made)["id"]).status_code == 204
    assert counted(table, OWNER) == 0
    assert delete(client, headers, old[1].id).status_code == 204
    assert counted(table, OWNER) == 0
    # And the old ones are still listed, the limit counting only the new ones
    listed = json_body(client.http.get("/webhooks?limit=100", headers=headers))
    assert len(listed["items"]) == 28
    fill(client, headers)
    assert post(client, headers).status_code == 409


def test_a_count_out_of_step_never_goes_below_zero_nor_blocks_a_delete(client: Client, table: Table) -> None:
    # Given a counted subscription whose counter someone set to 0 by hand
    headers = bearer(OWNER)
    (made,) = fill(client, headers, 1)
    table.put({**keys.webhook_count_key(OWNER), "type": "webhook_count", "n": 0})
    # When it is deleted: it is gone, and the count stays at 0
    assert delete(client, headers, made).status_code == 204
    assert subscriptions(table, OWNER) == []
    assert counted(table, OWNER) == 0


# --- the fan-out --------------------------------------------------------------------------


def test_the_fan_out_reads_every_subscription_past_1000(
    table: Table, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the oldest subscription, then 1,000 newer ones of other users
    start = datetime(2026, 1, 1, tzinfo=UTC)
    victim = legacy("victim-1", start, ["product.created"])
    newer = [
        legacy(f"user-{n % 40}", start + timedelta(seconds=1 + n), ["user.deleted"], 1 + n)
        for n in range(1000)
    ]
    write_directly(table, [victim, *newer])
    now = datetime.now(UTC)
    product = ProductPublic(
        id="p1",
        owner_id="victim-1",
        name="Mug",
        description="",
        price=Decimal("1"),
        currency="USD",
        stock=1,
        version=1,
        created_at=now,
        updated_at=now,
    )
    event = new_event("product.created", "products/p1", product, "1", now)
    sent: list[str] = []
    # When an event about the victim's product is fanned out
    with caplog.at_level(logging.WARNING, logger="storefront"):
        matched = Worker(table, lambda body, delay: sent.append(body), local=True).fan_out(event)
    # Then the oldest subscription receives it, and the operator is told the fan-out is large
    assert matched == 1
    assert len(sent) == 1
    assert victim.id in sent[0]
    large = [r for r in caplog.records if r.getMessage() == "webhook.fan_out_large"]
    assert len(large) == 1
    assert getattr(large[0], "subscriptions", None) == 1001


# --- faults: the subscription and its count together, or neither -------------------------


fresh = atomicity.fresh


def _send(client: Client, method: str, path: str, token: str, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return client.http.request(method, path, headers=headers, body=json.dumps(body).encode() if body else b"")


def full_user(client: Client) -> dict[str, Any]:
    """A user with as many subscriptions as one may have."""
    owner = user(client)
    for _ in range(MAX_SUBSCRIPTIONS_PER_USER):
        assert _send(client, "POST", "/webhooks", owner["token"], HOOK).status_code == 201
    return owner


def with_legacy_webhook(client: Client) -> dict[str, Any]:
    """A user with one subscription made before the counter existed, and one made after."""
    owner = user(client)
    old = legacy(owner["id"], datetime(2026, 1, 1, tzinfo=UTC), ["order.paid"])
    write_directly(deps.get_table(), [old])
    assert _send(client, "POST", "/webhooks", owner["token"], HOOK).status_code == 201
    return {**owner, "webhook": old.id}


def with_users_webhook(client: Client) -> dict[str, Any]:
    """A user's subscription, deleted by an admin."""
    owner = user(client)
    made = _send(client, "POST", "/webhooks", owner["token"], HOOK)
    assert made.status_code == 201, made.body
    return {"webhook": json_body(made)["id"], "admin": token_for("admin-1", "admin")}


SCENARIOS = {
    "subscribe webhook at the limit": Scenario(
        full_user, lambda c, x: _send(c, "POST", "/webhooks", x["token"], HOOK)
    ),
    "delete a webhook made before the counter": Scenario(
        with_legacy_webhook, lambda c, x: _send(c, "DELETE", f"/webhooks/{x['webhook']}", x["token"])
    ),
    "admin deletes a user's webhook": Scenario(
        with_users_webhook, lambda c, x: _send(c, "DELETE", f"/webhooks/{x['webhook']}", x["admin"])
    ),
}


def counts_in_step() -> bool:
    """Every owner's count is the number of their counted subscriptions in the table."""
    items = list(scan_all(deps.get_table()))
    hooks = Counter(
        str(item["owner_id"]["S"])
        for item in items
        if item.get("type") == {"S": "webhook"} and item.get("counted") == {"BOOL": True}
    )
    counts = {
        str(item["pk"]["S"]).removeprefix("HOOKCOUNT#"): int(item["n"]["N"])
        for item in items
        if item.get("type") == {"S": "webhook_count"}
    }
    return all(counts.get(owner, 0) == n for owner, n in hooks.items()) and all(
        n == hooks.get(owner, 0) for owner, n in counts.items()
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_fault_at_any_call_leaves_the_subscription_and_its_count_together(
    name: str, fresh: Callable[[], None]
) -> None:
    scenario = SCENARIOS[name]
    baseline = atomicity.run(scenario, fresh)
    assert baseline.status < 500
    atomicity.assert_whole_change_or_none(
        name, scenario, fresh, baseline, holds=counts_in_step, changes=baseline.status < 300
    )
