"""`make load`: Locust against a `make run` stack of its own, with the engine killed mid-run.

    python -m tools.load_test [--duration 60] [--users 10] [--out out/load]

It starts the supervisor (tools/run_local.py) on free loopback ports with a temporary data
directory, creates a catalogue, runs Locust headless (tools/locustfile.py) for a fixed time, and
in the middle kills the engine (``kill -9``): the supervisor restarts it from its journal. The
fault phase runs from the kill until ``/ready`` answers 200 again. Then it reads every shopper's
orders and the catalogue back through the API and checks the invariants (tools/load_checks.py),
and counts the events on the stack's local bus against the committed changes: those the run
saw acknowledged and those a scan of its table shows (tools/load_events.py).
Report: stdout, ``<out>/report.json`` and ``<out>/latency.png`` (the fault phase shaded); the
stack's bus (``bus.jsonl``), the run's acknowledged writes (``writes.jsonl``) and the logs beside.
Exit status 0 only with zero 5xx outside the fault phase, only 503 inside, no violation, and
as many events as committed changes (each once).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import requests

from tools import load_checks, load_events, processes

CATALOGUE_SIZE = 6
CATALOGUE_STOCK = 100_000
MERCHANT: dict[str, str] = {
    "email": "merchant@example.com",
    "password": "load-merchant-password-1",
    "name": "Merchant",
}


PAYMENT_WINDOW = 10  # seconds an order of the run may stay unpaid before it expires
# How long the local publisher may take to put the last committed changes on the bus.
EVENTS_SETTLE_SECONDS = 30


class Stack:
    """The supervisor with its own ports and data directory."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.port, self.dynamodb_port = processes.free_port(), processes.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = work / "supervisor.log"
        self.events_file = work / "data" / "events.jsonl"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the supervised stack (engine + API) on its ports."""
        args = [sys.executable, "-m", "tools.run_local", "--port", str(self.port)]
        args += ["--dynamodb-port", str(self.dynamodb_port), "--data-dir", str(self.work / "data")]
        # A short payment window and a frequent sweep: unpaid orders expire during the run.
        env = {"ORDER_PAYMENT_WINDOW_SECONDS": str(PAYMENT_WINDOW), "ORDER_SWEEP_SECONDS": "2"}
        env["EVENTS_FILE"] = str(self.events_file)  # this stack's bus, whatever the shell says
        self.proc = processes.spawn(args, env=env, log=self.log)
        self.wait_for(lambda text: "Storefront API on" in text, timeout=180)

    def text(self) -> str:
        """What the supervisor has printed so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, ready: Any, timeout: float) -> None:
        """Wait until `ready()` holds, or fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not ready(self.text()):
            assert self.proc is not None
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not come up:\n{self.text()[-2000:]}")
            time.sleep(0.1)

    def engine_pids(self) -> list[int]:
        """The engine processes running now."""
        return [int(line.split()[-1]) for line in self.text().splitlines() if line.startswith("engine pid ")]

    def scan(self) -> list[dict[str, Any]]:
        """Every item of the stack's table (its engine holds that one table), as plain values."""
        import boto3
        from boto3.dynamodb.types import TypeDeserializer

        dynamodb = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{self.dynamodb_port}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the run's own local engine
        )
        (table,) = dynamodb.list_tables()["TableNames"]
        plain = TypeDeserializer()
        return [
            {key: plain.deserialize(value) for key, value in item.items()}
            for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
            for item in page["Items"]
        ]

    def stop(self) -> None:
        """Stop the stack and everything it started."""
        if self.proc is not None:
            processes.stop(self.proc, timeout=120, group=False, kill_group=True)


def _login(base: str, email: str, password: str) -> dict[str, str]:
    response = requests.post(f"{base}/auth/token", json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def make_catalogue(base: str) -> dict[str, int]:
    """A merchant and its products, with the stock each starts with."""
    requests.post(f"{base}/users", json=MERCHANT, timeout=30)
    auth = _login(base, MERCHANT["email"], MERCHANT["password"])
    initial = {}
    for n in range(CATALOGUE_SIZE):
        body: dict[str, Any] = {"name": f"Catalogue {n}", "price": 2.5, "stock": CATALOGUE_STOCK}
        response = requests.post(f"{base}/products", json=body, headers=auth, timeout=30)
        response.raise_for_status()
        initial[response.json()["id"]] = CATALOGUE_STOCK
    return initial


def fault(stack: Stack, at: float, phase: dict[str, float]) -> None:
    """At `at` (epoch seconds) kill the engine; the phase ends when /ready is 200 again."""
    time.sleep(max(0.0, at - time.time()))
    before = len(stack.engine_pids())
    phase["start"] = time.time()
    os.kill(stack.engine_pids()[-1], signal.SIGKILL)
    stack.wait_for(lambda _text: len(stack.engine_pids()) > before, timeout=120)
    phase["engine_back"] = time.time()
    while True:
        try:
            if requests.get(f"{stack.base}/ready", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.05)
    phase["end"] = time.time()


def read_world(base: str, events: list[dict[str, Any]], initial: dict[str, int]) -> load_checks.World:
    """Every shopper's orders and the catalogue, read back through the API."""
    orders: dict[str, list[dict[str, Any]]] = {}
    for user in (e for e in events if e.get("kind") == "user"):
        auth = _login(base, user["user"], user["password"])
        found: list[dict[str, Any]] = []
        cursor: str | None = ""
        while cursor is not None:
            query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
            page = requests.get(f"{base}/orders{query}", headers=auth, timeout=30).json()
            found += page["items"]
            cursor = page["next_cursor"]
        orders[user["user"]] = found
    stock = {p: requests.get(f"{base}/products/{p}", timeout=30).json()["stock"] for p in initial}
    patched = {e["product"] for e in events if e.get("kind") == "patch"}
    read = {p: requests.get(f"{base}/products/{p}", timeout=30) for p in patched}
    versions = {p: r.json()["version"] for p, r in read.items() if r.status_code == 200}  # not deleted
    return load_checks.World(orders=orders, stock=stock, initial=initial, versions=versions)


def summarise(rows: list[dict[str, Any]], phase: dict[str, float], seconds: float) -> dict[str, Any]:
    """Throughput, p50/p99 per request type, statuses per phase."""
    by_name: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter[str]] = {"before": Counter(), "fault": Counter(), "after": Counter()}
    for row in rows:
        by_name[row["name"]].append(row["ms"])
        statuses[_phase(row, phase)][str(row["status"])] += 1

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "requests": len(rows),
        "throughput_rps": round(len(rows) / seconds, 1),
        "latency_ms": {
            name: {"count": len(v), "p50": pct(v, 0.5), "p99": pct(v, 0.99)}
            for name, v in sorted(by_name.items())
        },
        "statuses_by_phase": {name: dict(sorted(c.items())) for name, c in statuses.items()},
        "fault_phase_s": round(phase["end"] - phase["start"], 2),
        "engine_restarted_after_s": round(phase["engine_back"] - phase["start"], 2),
    }


def _phase(row: dict[str, Any], phase: dict[str, float]) -> str:
    """A request overlapping the fault window belongs to it (it may have met the dead engine)."""
    start, end = row["t"], row["t"] + row["ms"] / 1000
    if end < phase["start"]:
        return "before"
    return "after" if start > phase["end"] else "fault"


def plot(rows: list[dict[str, Any]], phase: dict[str, float], t0: float, path: Path) -> None:
    """Latency over time per request type, the fault phase shaded, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4.5))
    names = sorted({row["name"] for row in rows})
    for name in names:
        mine = [row for row in rows if row["name"] == name]
        ax.scatter([r["t"] - t0 for r in mine], [r["ms"] for r in mine], s=4, label=name)
    errors = [row for row in rows if row["status"] >= 500 or row["status"] == 0]
    if errors:
        ax.scatter(
            [r["t"] - t0 for r in errors], [r["ms"] for r in errors], s=14, marker="x", c="k", label="5xx"
        )
    ax.axvspan(phase["start"] - t0, phase["end"] - t0, color="red", alpha=0.15, label="engine killed → back")
    ax.set_yscale("log")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("latency, ms (log)")
    ax.set_title("make load: latency over time per request type")
    ax.legend(fontsize=7, markerscale=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def count_events(stack: Stack, records: list[dict[str, Any]], catalogue: set[str]) -> load_events.Count:
    """The bus against the committed changes, once the publisher has caught up (or given up
    waiting after EVENTS_SETTLE_SECONDS: the last count is the answer)."""
    acked = load_events.acknowledged(records)
    deadline = time.monotonic() + EVENTS_SETTLE_SECONDS
    while True:
        committed = load_events.in_table(stack.scan(), records, catalogue)
        found = load_events.count(committed, acked, _read(stack.events_file))
        if found.equal or time.monotonic() > deadline:
            return found
        time.sleep(1)


def _events_problem(events: dict[str, Any] | None) -> list[str]:
    if events is None or events["equal"]:
        return []
    return [
        f"events: {events['published']} published != {events['committed']} committed changes "
        f"(missing {events['missing']}, unexpected {events['unexpected']}, "
        f"duplicated {events['duplicates']})"
    ]


def verdict(summary: dict[str, Any], violations: dict[str, list[str]]) -> list[str]:
    """Why the run fails (empty: it passed)."""
    problems = [f"{name}: {v}" for name, found in violations.items() for v in found]
    problems += _events_problem(summary.get("events"))
    phases = summary["statuses_by_phase"]
    for name in ("before", "after"):
        bad = {s: n for s, n in phases[name].items() if s == "0" or s.startswith("5")}
        if bad:
            problems.append(f"server errors outside the fault phase ({name}): {bad}")
    bad = {s: n for s, n in phases["fault"].items() if s.startswith("5") and s != "503"}
    if bad:
        problems.append(f"errors other than 503 in the fault phase: {bad}")
    return problems


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    """Run the load test and its checks; the exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--users", type=int, default=10, help="simulated shoppers (default 10, max 50)")
    parser.add_argument("--out", type=Path, default=processes.ROOT / "out" / "load")
    args = parser.parse_args(argv)
    users = max(1, min(args.users, 50))
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="storefront-load-"))
    stack = Stack(work)
    try:
        stack.start()
        initial = make_catalogue(stack.base)
        env = {
            **os.environ,
            "LOAD_CATALOGUE": json.dumps(sorted(initial)),
            "LOAD_REQUESTS": str(work / "requests.jsonl"),
            "LOAD_EVENTS": str(work / "events.jsonl"),
            "LOAD_WEBHOOK_SECRET": (work / "data" / "payment-webhook-secret")
            .read_text(encoding="utf-8")
            .strip(),
            "LOAD_ADMIN": (work / "data" / "admin.json").read_text(encoding="utf-8"),
        }
        locust = [sys.executable, "-m", "locust", "-f", str(processes.ROOT / "tools" / "locustfile.py")]
        locust += ["--headless", "--users", str(users), "--spawn-rate", str(users), "--host", stack.base]
        locust += ["--run-time", f"{args.duration}s", "--only-summary", "--loglevel", "WARNING"]
        t0 = time.time()
        phase: dict[str, float] = {}
        killer = threading.Thread(target=fault, args=(stack, t0 + args.duration * 0.45, phase))
        killer.start()
        print(f"make load: {users} users, {args.duration} s against {stack.base}; engine killed at ~45 %")
        subprocess.run(locust, env=env, check=False, stdout=subprocess.DEVNULL)  # noqa: S603
        killer.join()
        # Every order left unpaid is past its window once the window has passed again, and
        # the sweep (every 2 s) has given its stock back: then the invariant can be checked.
        time.sleep(PAYMENT_WINDOW + 5)
        rows, events = _read(work / "requests.jsonl"), _read(work / "events.jsonl")
        summary = summarise(rows, phase, time.time() - t0)
        violations = load_checks.check(read_world(stack.base, events, initial), events)
        summary["invariants"] = violations
        summary["events"] = count_events(stack, events, set(initial)).report()
        summary["problems"] = verdict(summary, violations)
        plot(rows, phase, t0, args.out / "latency.png")
        (args.out / "report.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(summary, indent=2))
        counted = summary["events"]
        print(
            f"events: {counted['published']} published, {counted['committed']} committed changes "
            f"({counted['acknowledged']} acknowledged): {'equal' if counted['equal'] else 'DIFFERENT'}"
        )
        print(f"report: {args.out / 'report.json'}, plot: {args.out / 'latency.png'}")
        print("PASSED" if not summary["problems"] else "FAILED: " + "; ".join(summary["problems"]))
        return 0 if not summary["problems"] else 1
    finally:
        stack.stop()
        kept = {"supervisor.log": work / "supervisor.log", "engine.log": work / "data" / "engine.log"}
        kept |= {"bus.jsonl": stack.events_file, "writes.jsonl": work / "events.jsonl"}
        for name, log in kept.items():
            if log.exists():
                shutil.copy(log, args.out / name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
