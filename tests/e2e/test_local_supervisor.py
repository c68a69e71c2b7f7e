"""`make run`'s supervisor, for real: it stays up, reloads on source edits, loses no write.

One supervisor (``python -m tools.run_local``) runs on free ports from a copy of the project
in a temporary directory, with its data directory inside that copy (as `.local/` is inside the
tree), so editing a source file never touches the working tree and no developer data is used.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tools import processes

pytestmark = pytest.mark.e2e

PROJECT = ["app.py", "manage.py", "chalicelib", "tools", ".chalice/config.json"]
DEMO = {"email": "alice@example.com", "password": "storefront-demo-123"}
STOCK = 400


class Supervisor:
    """The `make run` supervisor on a project copy; its output goes to a log we read."""

    def __init__(self, root: Path, data: Path | None = None, log: Path | None = None) -> None:
        self.root = root
        self.data = data or root / ".local"
        self.port = processes.free_port()
        self.dynamodb_port = processes.free_port()
        self.log = log or root / "supervisor.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"TABLE_NAME", "JWT_SECRET", "DYNAMODB_ENDPOINT", "MAIL_DIR"}
        }
        args = [sys.executable, "-m", "tools.run_local", "--port", str(self.port)]
        args += ["--dynamodb-port", str(self.dynamodb_port), "--data-dir", str(self.data)]
        offset = len(self.text())
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                args, cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_for("Storefront API on", since=offset, timeout=180)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def lines(self, since: int = 0) -> list[str]:
        return self.text()[since:].splitlines()

    def wait_for(self, needle: str, since: int, timeout: float = 60, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while sum(needle in line for line in self.lines(since)) < count:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"supervisor exited:\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} within {timeout} s:\n{self.text()[-3000:]}")
            time.sleep(0.2)

    def engine_pid(self) -> int:
        return int([line for line in self.lines() if line.startswith("engine pid ")][-1].split()[-1])

    def kill_group(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)  # the supervisor, the engine and chalice local
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervisor]:
    root = tmp_path_factory.mktemp("project")
    for name in PROJECT:
        source = processes.ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    supervisor = Supervisor(root)
    supervisor.start()
    yield supervisor
    supervisor.stop()


def _login(base: str) -> dict[str, str]:
    response = requests.post(f"{base}/auth/token", json=DEMO, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _products(base: str, auth: dict[str, str], count: int) -> list[str]:
    ids = []
    for n in range(count):
        body: dict[str, Any] = {"name": f"Durable {n}", "price": 1, "stock": STOCK}
        response = requests.post(f"{base}/products", json=body, headers=auth, timeout=30)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


class Orders:
    """Concurrent order traffic; remembers every order answered 201."""

    def __init__(self, base: str, auth: dict[str, str], products: list[str], threads: int = 4) -> None:
        self.base, self.auth, self.products = base, auth, products
        self.acked: dict[str, list[dict[str, Any]]] = {}
        self.statuses: Counter[str] = Counter()
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    def __enter__(self) -> Orders:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join()

    def _run(self, worker: int) -> None:
        session = requests.Session()
        n = worker
        while not self.done.is_set():
            n += 1
            first, second = self.products[n % len(self.products)], self.products[(n + 1) % len(self.products)]
            items: list[dict[str, Any]] = [
                {"product_id": first, "quantity": 1 + n % 2},
                {"product_id": second, "quantity": 1},
            ]
            try:
                response = session.post(
                    f"{self.base}/orders", json={"items": items}, headers=self.auth, timeout=15
                )
            except requests.RequestException as exc:
                self.statuses[type(exc).__name__] += 1
                session = requests.Session()
                time.sleep(0.05)
                continue
            self.statuses[str(response.status_code)] += 1
            if response.status_code == 201:
                self.acked[response.json()["id"]] = items
            else:
                time.sleep(0.05)

    def wait_for_acks(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} orders: {self.statuses}"
            time.sleep(0.05)


def _assert_no_acknowledged_order_lost(base: str, orders: Orders) -> None:
    auth = _login(base)
    existing: dict[str, dict[str, Any]] = {}
    url: str | None = f"{base}/orders?limit=100"
    while url:
        page = requests.get(url, headers=auth, timeout=30).json()
        existing.update({order["id"]: order for order in page["items"]})
        url = f"{base}/orders?limit=100&cursor={page['next_cursor']}" if page["next_cursor"] else None
    missing = set(orders.acked) - set(existing)
    assert not missing, f"{len(missing)} orders answered 201 are gone"
    for product_id in orders.products:
        sold = sum(
            line["quantity"]
            for order in existing.values()
            if order["status"] == "placed"
            for line in order["items"]
            if line["product_id"] == product_id
        )
        stock = requests.get(f"{base}/products/{product_id}", timeout=30).json()["stock"]
        assert stock == STOCK - sold, f"product {product_id}: stock {stock}, sold {sold}"


def test_steady_traffic_never_restarts_the_api_nor_refuses_a_connection(stack: Supervisor) -> None:
    # Given the running stack, a token and a product (orders write journal + log in the tree)
    auth = _login(stack.base)
    product = _products(stack.base, auth, 1)[0]
    since = len(stack.text())
    session = requests.Session()
    statuses: Counter[int] = Counter()
    # When ~3 requests a second arrive for 30 s, over a kept-alive and over fresh connections
    end = time.monotonic() + 30
    n = 0
    while time.monotonic() < end:
        n += 1
        if n % 3 == 0:
            response = requests.get(f"{stack.base}/products/{product}", timeout=10)  # a new connection
        elif n % 3 == 1:
            response = session.get(f"{stack.base}/health", timeout=10)
        else:
            order: dict[str, Any] = {"items": [{"product_id": product, "quantity": 1}]}
            response = session.post(f"{stack.base}/orders", json=order, headers=auth, timeout=10)
        statuses[response.status_code] += 1
        time.sleep(0.3)
    # Then every request was answered (no refused or reset connection raised), none failed,
    assert set(statuses) <= {200, 201}, statuses
    assert statuses[201] >= 25
    # and nothing was restarted
    events = [line for line in stack.lines(since) if "restart" in line.lower() or "exited" in line]
    assert events == []
    assert not any(line.startswith(("API pid", "engine pid")) for line in stack.lines(since))


def _events(stack: Supervisor) -> list[dict[str, Any]]:
    path = stack.data / "events.jsonl"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [json.loads(line) for line in text.splitlines()]


def test_make_run_publishes_each_committed_change_once_to_the_events_file(stack: Supervisor) -> None:
    # Given the running stack (its seed registered the demo users)
    auth = _login(stack.base)
    # When products are created
    created = _products(stack.base, auth, 3)
    # Then each one's product.created event reaches .local/events.jsonl, once, by the stream
    wanted = {f"products/{product_id}" for product_id in created}
    deadline = time.monotonic() + 30
    while not wanted <= {e["subject"] for e in _events(stack) if e["type"] == "product.created"}:
        assert time.monotonic() < deadline, f"events missing: {wanted}"
        time.sleep(0.2)
    events = _events(stack)
    assert any(e["type"] == "user.registered" and e["data"]["email"] == DEMO["email"] for e in events)
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))
    assert "Events: " in stack.text()


def test_editing_a_source_file_restarts_the_api_exactly_once(stack: Supervisor) -> None:
    since = len(stack.text())
    source = stack.root / "chalicelib" / "api" / "health.py"
    # When a developer saves a source file
    source.write_text(source.read_text(encoding="utf-8") + "\n# edited by a test\n", encoding="utf-8")
    # Then one line says so, the API comes back and answers
    stack.wait_for("API pid", since=since)
    assert requests.get(f"{stack.base}/health", timeout=10).status_code == 200
    time.sleep(2.5)  # more than two polls: a second restart would show by now
    restarts = [line for line in stack.lines(since) if line.startswith("source changed")]
    assert restarts == ["source changed: chalicelib/api/health.py; restarting API"]
    assert sum(line.startswith("API pid") for line in stack.lines(since)) == 1


def test_kill_9_of_the_engine_mid_traffic_loses_no_acknowledged_order(stack: Supervisor) -> None:
    auth = _login(stack.base)
    products = _products(stack.base, auth, 3)
    since = len(stack.text())
    with Orders(stack.base, auth, products) as orders:
        orders.wait_for_acks(15)
        # When the engine is killed while orders are being placed
        os.kill(stack.engine_pid(), signal.SIGKILL)
        # Then the supervisor restarts it (journal replayed) and orders succeed again
        stack.wait_for("engine pid", since=since, timeout=60)
        acked = len(orders.acked)
        orders.wait_for_acks(acked + 15)
    assert any("engine exited (-9); restarting it" in line for line in stack.lines(since))
    # and every order answered 201 exists, and each product's stock matches the orders exactly
    _assert_no_acknowledged_order_lost(stack.base, orders)


def test_kill_9_of_the_whole_process_group_loses_no_acknowledged_order(stack: Supervisor) -> None:
    auth = _login(stack.base)
    products = _products(stack.base, auth, 3)
    with Orders(stack.base, auth, products) as orders:
        orders.wait_for_acks(20)
        # When `make run`'s whole process group is killed mid-traffic
        stack.kill_group()
    assert orders.acked
    # Then a new start on the same data directory has every order answered 201, and no stock
    # taken without its order
    stack.start()
    _assert_no_acknowledged_order_lost(stack.base, orders)


def test_an_engine_that_cannot_come_back_stops_everything_with_one_line(tmp_path: Path) -> None:
    # Given a running stack whose journal has been damaged behind the engine's back
    supervisor = Supervisor(processes.ROOT, data=tmp_path / "data", log=tmp_path / "supervisor.log")
    supervisor.start()
    try:
        with (supervisor.data / "journal.jsonl").open("ab") as journal:
            journal.write(b"{damaged\n")
        # When the engine dies
        os.kill(supervisor.engine_pid(), signal.SIGKILL)
        assert supervisor.proc is not None
        code = supervisor.proc.wait(timeout=60)
    finally:
        supervisor.stop()
    # Then the supervisor does not serve on: it says why in one line, stops the API and exits 1
    assert code == 1
    stopping = [line for line in supervisor.lines() if line.endswith("stopping")]
    assert len(stopping) == 1
    assert stopping[0].startswith("engine could not start again")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{supervisor.base}/health", timeout=5)


def test_the_readme_demo_forget_mail_confirm_log_in(stack: Supervisor) -> None:
    """Account mail under `make run`: the mail lands in .local/mail/, its link on the console."""
    from tests.mailbox import latest_token

    account = {"email": "forgetful@example.com", "password": "first-password-1"}
    registered = requests.post(f"{stack.base}/users", json={**account, "name": "F"}, timeout=30)
    assert registered.status_code == 201, registered.text
    offset = len(stack.text())
    forgot = requests.post(f"{stack.base}/auth/password-reset", json={"email": account["email"]}, timeout=30)
    assert forgot.status_code == 202
    stack.wait_for(f"mail to {account['email']}", since=offset, timeout=30)
    (link,) = [line for line in stack.lines(offset) if f"mail to {account['email']}" in line]
    assert f"{stack.base}/reset-password?token=" in link
    token = latest_token(account["email"], "password", stack.data / "mail")
    assert link.endswith(token)
    new = {"token": token, "new_password": "second-password-2"}
    assert requests.post(f"{stack.base}/auth/password-reset/confirm", json=new, timeout=30).status_code == 204
    relogin = {"email": account["email"], "password": new["new_password"]}
    assert requests.post(f"{stack.base}/auth/token", json=relogin, timeout=30).status_code == 200
