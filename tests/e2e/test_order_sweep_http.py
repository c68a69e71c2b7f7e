"""A bare `chalice local` (no `make run` around it) sweeps expired orders by itself, and
`manage.py pay` pays an order through it as the payment provider would."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import manage
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.orderflow import make_overdue
from tools import processes


@pytest.fixture
def bare_chalice_local(table: Table, engine_endpoint: str, tmp_path: Path) -> Iterator[str]:
    """`chalice local --stage test` on this test's table, sweeping every second."""
    port = processes.free_port()
    env = {"TABLE_NAME": table.name, "DYNAMODB_ENDPOINT": engine_endpoint, "ORDER_SWEEP_SECONDS": "1"}
    proc = processes.start_chalice_local(port, env=env, stage="test", log=tmp_path / "chalice.log")
    yield f"http://127.0.0.1:{port}"
    processes.stop(proc)


def _place(base: str, table: Table) -> tuple[str, str]:
    """A product (stock 10) and an order of 2 of it, through the running API."""
    from tests.helpers import token_for
    from tests.orderflow import make_product

    product = make_product(table)
    body = json.dumps({"items": [{"product_id": product, "quantity": 2}]}).encode()
    headers = {"Authorization": f"Bearer {token_for('buyer-1')}", "Content-Type": "application/json"}
    request = urllib.request.Request(f"{base}/orders", data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return product, str(json.loads(answer.read())["id"])


def _stock(table: Table, product: str) -> int:
    item = table.get(keys.product_key(product))
    assert item is not None
    return int(item["stock"])


def test_a_bare_chalice_local_gives_an_expired_orders_stock_back_within_seconds(
    bare_chalice_local: str, table: Table
) -> None:
    product, order = _place(bare_chalice_local, table)
    assert _stock(table, product) == 8
    make_overdue(table, order, timedelta(seconds=1))
    deadline = time.monotonic() + 15
    while _stock(table, product) != 10 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _stock(table, product) == 10
    stored = table.get(keys.order_key(order))
    assert stored is not None
    assert stored["status"] == "expired"


def test_manage_pay_pays_an_order_through_the_running_api(
    bare_chalice_local: str, table: Table, capsys: pytest.CaptureFixture[str]
) -> None:
    _, order = _place(bare_chalice_local, table)
    assert manage.main(["pay", order, "--api", bare_chalice_local], table=table) == 0
    assert '"outcome":"paid"' in capsys.readouterr().out
    assert manage.main(["pay", order, "--api", bare_chalice_local, "--amount", "1.00"], table=table) == 1
    assert "422" in capsys.readouterr().out
    stored = table.get(keys.order_key(order))
    assert stored is not None
    assert stored["status"] == "paid"
