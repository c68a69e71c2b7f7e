"""The sweep's two entry points (the scheduled function, the chalice-local thread) and where
the payment webhook's secrets come from."""

from __future__ import annotations

import pytest
from chalice.test import Client

from chalicelib.api import sweep
from chalicelib.config import SettingsError, load_settings
from chalicelib.security.webhooks import (
    LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET,
    get_payment_webhooks,
    secrets_of,
)
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.conftest import TEST_PAYMENT_WEBHOOK_SECRET
from tests.orderflow import make_overdue, make_product, place

SECRET_B = "whsec_c2Vjb25kLXNlY3JldC1mb3ItdGhlLXJvdGF0aW9uLTAx"


SCHEDULED_EVENT = {
    "version": "0",
    "id": "e1",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-04T04:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {},
}


def test_the_scheduled_function_expires_what_is_due(client: Client, table: Table) -> None:
    product = make_product(table)
    order = place(client, product)
    assert sweep.expire_orders(SCHEDULED_EVENT, None) == {"expired": 0}
    make_overdue(table, order["id"])
    assert sweep.expire_orders(SCHEDULED_EVENT, None) == {"expired": 1}
    item = table.get(keys.product_key(product))
    assert item is not None
    assert item["stock"] == 10


def test_the_sweep_reads_every_page_of_due_orders(client: Client, table: Table) -> None:
    from chalicelib.services.orders import expire_due_orders

    product = make_product(table)
    orders = [place(client, product, 1)["id"] for _ in range(5)]
    for order in orders:
        make_overdue(table, order)
    assert expire_due_orders(table, page_size=2) == 5
    item = table.get(keys.product_key(product))
    assert item is not None
    assert item["stock"] == 10


def test_the_local_sweeper_stops_when_sweeping_is_off(table: Table) -> None:
    # The suites run with ORDER_SWEEP_SECONDS=0: the thread starts, reads it and ends.
    thread = sweep.start_local_sweeper(first_delay=0)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert sweep.start_local_sweeper() is thread  # once per process


def test_secrets_come_from_the_environment_current_first() -> None:
    settings = load_settings(
        {"STAGE": "test", "PAYMENT_WEBHOOK_SECRET": f"{SECRET_B}, {TEST_PAYMENT_WEBHOOK_SECRET}"}
    )
    assert secrets_of(settings) == (SECRET_B, TEST_PAYMENT_WEBHOOK_SECRET)


def test_a_local_stage_without_a_secret_uses_the_published_default() -> None:
    assert secrets_of(load_settings({"STAGE": "local"})) == (LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET,)


def test_deployed_stages_read_ssm_and_refuse_none_or_the_local_default() -> None:
    deployed = load_settings(
        {"STAGE": "dev", "PAYMENT_WEBHOOK_SECRET_PARAM": "/storefront/dev/payment-webhook-secret"}
    )
    asked: list[tuple[str, str]] = []

    def fetch(name: str, region: str) -> str:
        asked.append((name, region))
        return f"{SECRET_B} {TEST_PAYMENT_WEBHOOK_SECRET}"

    assert secrets_of(deployed, fetch) == (SECRET_B, TEST_PAYMENT_WEBHOOK_SECRET)
    assert asked == [("/storefront/dev/payment-webhook-secret", "us-east-1")]
    with pytest.raises(SettingsError):
        secrets_of(load_settings({"STAGE": "dev"}))
    with pytest.raises(SettingsError):
        secrets_of(
            load_settings({"STAGE": "prod", "PAYMENT_WEBHOOK_SECRET": LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET})
        )


def test_a_secret_that_is_not_base64_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.api import deps

    monkeypatch.setenv("PAYMENT_WEBHOOK_SECRET", "whsec_not*base64!")
    deps.reset()
    try:
        with pytest.raises(SettingsError):
            get_payment_webhooks()
    finally:
        monkeypatch.undo()
        deps.reset()


def test_a_transition_commits_with_extra_actions_or_not_at_all(client: Client, table: Table) -> None:
    # The hook for outbox events: `also` actions join the transition's write.
    from chalicelib.clock import isoformat, utc_now
    from chalicelib.models.orders import ShipmentCreate
    from chalicelib.store.expr import eq
    from chalicelib.store.orders import OrderStore
    from chalicelib.store.table import condition_check_action
    from tests.payments import deliver, payment_event

    product = make_product(table)
    orders = OrderStore(table)
    first, second = place(client, product), place(client, product)
    for order in (first, second):
        deliver(client, payment_event(order["id"], "39.98"))
    shipment = ShipmentCreate(carrier="DHL", tracking_number="1")
    holds = condition_check_action(keys.product_key(product), eq("stock", 6))
    fails = condition_check_action(keys.product_key(product), eq("stock", 99))
    refused = orders.ship(first["id"], shipment, isoformat(utc_now()), also=[fails])
    assert refused.item is None
    assert refused.old is not None
    assert refused.old.status == "paid"
    shipped = orders.ship(second["id"], shipment, isoformat(utc_now()), also=[holds])
    assert shipped.item is not None
    assert shipped.item.status == "shipped"
