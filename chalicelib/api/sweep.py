"""The expiry sweep: placed orders past their payment deadline give their stock back.

Deployed, `expire_orders` is a function of its own that EventBridge calls every minute
(Chalice's `schedule`: `chalice package` makes the rule and the permission). Under
`chalice local` (and so `make run`) a daemon thread does the same (`start_local_sweeper`,
started by api/local_server.fix_chalice_local). Reads never wait for either: an overdue
placed order already reads as expired (models/orders.OrderItem.effective_status).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from chalice.app import Blueprint, Rate

from chalicelib.api.deps import get_table
from chalicelib.config import get_settings

bp = Blueprint(__name__)
logger = logging.getLogger("storefront")
SWEEP_RATE = Rate(1, unit=Rate.MINUTES)


@bp.schedule(SWEEP_RATE, name="expire_orders")
def expire_orders(event: Any) -> dict[str, int]:
    """Expire every overdue placed order (one transaction each, stock back with it)."""
    from chalicelib.services import orders  # not at import: app.py imports this module too

    return {"expired": orders.expire_due_orders(get_table())}


_started: list[threading.Thread] = []


def _sweep_forever(first_delay: float) -> None:
    from chalicelib.services import orders

    time.sleep(first_delay)  # settings are read once the server has applied the stage's
    while (interval := get_settings().order_sweep_seconds) > 0:  # 0: off (the test suites)
        try:
            orders.expire_due_orders(get_table())
        except Exception:  # the next sweep tries again; the API must not go down with it
            logger.warning("order sweep failed; retrying at the next interval", exc_info=True)
        time.sleep(interval)


def start_local_sweeper(first_delay: float = 1.0) -> threading.Thread:
    """Run the sweep in this process every ORDER_SWEEP_SECONDS (once per process)."""
    if not _started:
        thread = threading.Thread(target=_sweep_forever, args=(first_delay,), name="order-sweep", daemon=True)
        thread.start()
        _started.append(thread)
    return _started[0]
