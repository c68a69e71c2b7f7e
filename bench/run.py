"""`make bench`: what users feel, Storefront side by side with a plain boto3 handler and
with what a user would pick instead (docs/performance.md).

Six configurations, each a Lambda handler called in-process with API Gateway proxy
events, on one embedded DynamoDB engine (a free loopback port) and one table:
- floor: bench/floor.py, a plain boto3 handler for the same three routes;
- peers: Powertools' APIGatewayRestResolver (bench/peer_powertools.py) and a minimal
  Chalice app (bench/peer_chalice.py), on the floor's DynamoDB code;
- logs: Storefront with JSON logs at INFO, no metrics, no X-Ray;
- production: Storefront with JSON logs, EMF metrics and X-Ray (a simulated Lambda:
  LAMBDA_TASK_ROOT, a UDP socket standing in for the daemon, a fresh trace id per call),
  every request sampled, and again with API Gateway's default sampling (1/s + 5 %).

Overhead = handler time minus the whole of botocore's `_make_api_call` for DynamoDB
(bench/worker.py): the same for every handler, so it is reported on its own.

Warm: one process per configuration, ~BENCH_WARM_N invocations per route, run in chunks
interleaved across configurations so that machine load hits them alike, within
BENCH_WARM_SECONDS (the n reached is reported). Cold: BENCH_COLD_RUNS
fresh processes per configuration (interleaved), each timed from spawn to the response to
its first `GET /products/{id}`. Results: printed, bench/results.{json,md,png}.
BENCH_WHAT_IF=1 adds cold starts of bench/products_only.py (an experiment, not a target).
BENCH_SAME_WRITE=1 makes the floor and the peers write a POST as Storefront does (one
transaction with the owner's check and the outbox event: bench/floor.py), an experiment
whose results go to bench/same-write/ (BENCH_RESULTS_DIR chooses another place).
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bench import report
from bench.worker import OWNER
from chalicelib.store import keys
from chalicelib.store.schema import create_table_params
from tools import processes

ROOT = Path(__file__).resolve().parent.parent
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "10"))
WARM_N = int(os.environ.get("BENCH_WARM_N", "1000"))
# The engine's Query of 21 items takes 30-80 ms (moto, load-dependent): on a busy machine the
# warm phase stops after the round that crosses this budget, and reports the n it reached.
WARM_BUDGET_S = float(os.environ.get("BENCH_WARM_SECONDS", "150"))
CHUNK = 50
WARMUP = 30
SEED_PRODUCTS = 30
ROUTES = ("get", "list", "post")
BENCH_SECRET = "bench-only-jwt-secret-0123456789abcdef0123456789"  # noqa: S105 - never deployed


@dataclass
class Config:
    """One benchmarked configuration and what was measured of it."""

    key: str
    label: str
    target: str
    env: dict[str, str]
    cold: list[dict[str, Any]] = field(default_factory=list)
    warm: dict[str, list[list[int]]] = field(default_factory=lambda: {r: [] for r in ROUTES})
    rss_kib: int = 0


def configs(daemon_port: int) -> list[Config]:
    """The floor, the two peers and Storefront's three configurations (production traces to
    daemon_port, every request sampled or as API Gateway's default rule samples)."""
    logs = {"AWS_XRAY_SDK_ENABLED": "false", "METRICS_ENABLED": "false", "LOG_LEVEL": "INFO"}
    production = {
        **logs,
        "AWS_XRAY_SDK_ENABLED": "true",
        "METRICS_ENABLED": "true",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon_port}",
    }
    return [
        Config("floor", "plain boto3 handler (floor)", "floor", logs),
        Config("powertools", "peer: Powertools APIGatewayRestResolver", "powertools", logs),
        Config("chalice", "peer: minimal Chalice app", "chalice", logs),
        Config("logs", "Storefront, logs only", "storefront", logs),
        Config(
            "production",
            "Storefront, production, X-Ray 100 % sampled",
            "storefront",
            {**production, "BENCH_SAMPLING": "all"},
        ),
        Config(
            "production-default",
            "Storefront, production, X-Ray default sampling (1/s + 5 %)",
            "storefront",
            {**production, "BENCH_SAMPLING": "default"},
        ),
    ]


def what_if(daemon_port: int) -> list[Config]:
    """Cold-start-only experiments (BENCH_WHAT_IF=1): see bench/products_only.py."""
    logs = configs(daemon_port)[1].env
    return [Config("products-only", "what-if: products routes only, logs only", "products-only", logs)]


def base_env(endpoint: str, table: str, pycache: Path) -> dict[str, str]:
    """The environment every benchmark process shares."""
    skip = (
        "AWS_",
        "LAMBDA_",
        "_X_AMZN",
        "METRICS_",
        "LOG_LEVEL",
        "JWT_",
        "DYNAMODB_",
        "TABLE_NAME",
        "PYTHON",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(
        # Lambda runs from bytecode (the package build precompiles it): the first process of each
        # configuration writes it here, and every later one reads it, for floor and app alike.
        PYTHONPYCACHEPREFIX=str(pycache),
        STAGE="bench",
        JWT_SECRET=BENCH_SECRET,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - the local engine takes any
        DYNAMODB_ENDPOINT=endpoint,
        TABLE_NAME=table,
        LAMBDA_TASK_ROOT=str(ROOT),
        PYDANTIC_DISABLE_PLUGINS="__all__",  # as every stage sets it (.chalice/config.json)
    )
    return env


class Worker:
    """A warm benchmark process, driven over stdin, answering on a pipe."""

    def __init__(self, config: Config, env: dict[str, str], logs: IO[bytes]) -> None:
        read, write = os.pipe()
        args = [sys.executable, "-m", "bench.worker", config.target, "warm", str(write)]
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env={**env, **config.env}, stdin=subprocess.PIPE, stdout=logs,
            stderr=logs, pass_fds=(write,), text=True,
        )  # fmt: skip
        os.close(write)
        self.answers = os.fdopen(read)

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send one command; its answer."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.answers.readline()
        if not line:
            raise RuntimeError(f"benchmark worker exited with {self.proc.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        """End the worker (stdin closed) and wait for it."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.answers.close()


def cold_run(config: Config, env: dict[str, str], logs: IO[bytes]) -> dict[str, Any]:
    """One fresh process: spawn → import → the first GET /products/{id} (→ a second one)."""
    read, write = os.pipe()
    args = [sys.executable, "-m", "bench.worker", config.target, "cold", str(write)]
    spawned = time.monotonic()
    proc = subprocess.Popen(
        args, cwd=ROOT, env={**env, **config.env}, stdout=logs, stderr=logs, pass_fds=(write,)
    )
    os.close(write)
    with os.fdopen(read) as answers:
        line = answers.readline()
    proc.wait(timeout=60)
    if not line:
        raise RuntimeError(f"{config.key}: cold run exited with {proc.returncode}")
    result: dict[str, Any] = json.loads(line)
    if result["status"] != [200, 200]:
        raise RuntimeError(f"{config.key}: cold GET answered {result['status']}")
    result["total_s"] = result["answered"] - spawned
    result["interpreter_s"] = result["started"] - spawned
    return result


def delete_products(client: Any, table: str, ids: list[str]) -> None:
    """Keep the table the same size from chunk to chunk: remove what the POSTs created."""
    for start in range(0, len(ids), 25):
        keys = [{"pk": {"S": f"PRODUCT#{i}"}, "sk": {"S": "PRODUCT"}} for i in ids[start : start + 25]]
        pending: Any = {table: [{"DeleteRequest": {"Key": key}} for key in keys]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")


def run_warm(all_configs: list[Config], env: dict[str, str], client: Any, logs: IO[bytes]) -> str:
    """Seed, warm up, then measure every route in interleaved chunks; the GET's product id."""
    workers = {c.key: Worker(c, env, logs) for c in all_configs}
    try:
        seeded: list[str] = workers["logs"].ask({"route": "post", "n": SEED_PRODUCTS})["created"]
        if len(seeded) != SEED_PRODUCTS:
            raise RuntimeError("seeding through POST /products failed")
        product_id = seeded[len(seeded) // 2]
        for worker in workers.values():
            for route in ROUTES:
                answer = worker.ask({"route": route, "n": WARMUP, "product_id": product_id})
                delete_products(client, env["TABLE_NAME"], answer["created"])
        deadline = time.monotonic() + WARM_BUDGET_S
        for _ in range(max(1, WARM_N // CHUNK)):
            if time.monotonic() > deadline:
                break
            for route in ROUTES:
                for config in all_configs:
                    command = {"route": route, "n": min(CHUNK, WARM_N), "product_id": product_id}
                    answer = workers[config.key].ask(command)
                    config.warm[route].extend(answer["samples"])
                    delete_products(client, env["TABLE_NAME"], answer["created"])
        for config in all_configs:
            config.rss_kib = workers[config.key].ask({"rss": True})["rss_kib"]
    finally:
        for worker in workers.values():
            worker.close()
    return product_id


def run_cold(all_configs: list[Config], env: dict[str, str], logs: IO[bytes]) -> None:
    """BENCH_COLD_RUNS fresh processes per configuration, interleaved."""
    for config in all_configs:  # one discarded run each: bytecode written, files in the page cache
        cold_run(config, env, logs)
    for _ in range(COLD_RUNS):
        for config in all_configs:
            config.cold.append(cold_run(config, env, logs))


def create_table(client: Any, name: str) -> None:
    """The single table (schema.py), ready."""
    client.create_table(**create_table_params(name))
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})


def create_owner(client: Any, name: str) -> None:
    """The user the POSTs are made as: a product write checks, in its transaction, that its
    owner still exists, so the benchmark's owner must be a real user item."""
    key = keys.user_key(OWNER)
    item = {name_: {"S": value} for name_, value in {**key, "type": "user", "id": OWNER}.items()}
    client.put_item(TableName=name, Item=item)


@contextmanager
def in_process(config_key: str, prefix: str) -> Iterator[None]:
    """The setting of an in-process measurement (bench/profile.py, own_time.py, ab.py): the
    embedded engine on a free port with a table and its owner, this process's environment
    as the configuration sets it (its X-Ray daemon a UDP socket that only receives), and
    the handler's log lines to a file, not the terminal; undone on exit."""
    import boto3

    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        socket.socket(type=socket.SOCK_DGRAM) as daemon,
    ):
        daemon.bind(("127.0.0.1", 0))
        port = processes.free_port()
        engine = processes.start_engine(port, log=Path(tmp) / "engine.log")
        try:
            endpoint, table = f"http://127.0.0.1:{port}", f"{prefix}{uuid.uuid4().hex[:8]}"
            config = next(c for c in configs(daemon.getsockname()[1]) if c.key == config_key)
            os.environ.update({**base_env(endpoint, table, Path(tmp) / "pycache"), **config.env})
            client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
            create_table(client, table)
            create_owner(client, table)  # product writes check their owner exists
            with open(Path(tmp) / "app.log", "w") as log:
                sys.stdout = log
                try:
                    yield
                finally:
                    sys.stdout = sys.__stdout__
        finally:
            processes.stop(engine)


def main() -> int:
    """Run everything; print the tables and write the results."""
    import boto3

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, open(Path(tmp) / "workers.log", "wb") as logs:
        port = processes.free_port()
        engine = processes.start_engine(port, log=Path(tmp) / "engine.log")
        daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # absorbs the trace datagrams
        try:
            daemon.bind(("127.0.0.1", 0))
            endpoint, table = f"http://127.0.0.1:{port}", f"bench-{uuid.uuid4().hex[:8]}"
            env = base_env(endpoint, table, Path(tmp) / "pycache")
            client = boto3.client(
                "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="bench", aws_secret_access_key="bench",  # noqa: S106
            )  # fmt: skip
            create_table(client, table)
            create_owner(client, table)
            all_configs = configs(daemon.getsockname()[1])
            env["BENCH_PRODUCT_ID"] = run_warm(all_configs, env, client, logs)
            experiments = what_if(daemon.getsockname()[1]) if os.environ.get("BENCH_WHAT_IF") else []
            run_cold(all_configs + experiments, env, logs)
        finally:
            daemon.close()
            processes.stop(engine)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    meta = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"Python {platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()})",
        "load_after": load,
        "cold_runs": COLD_RUNS,
        "warm_n": len(all_configs[0].warm["get"]),
        "warm_n_asked": WARM_N,
        "warm_budget_s": WARM_BUDGET_S,
        "seconds": round(time.monotonic() - started),
    }
    if os.environ.get("BENCH_SAME_WRITE") == "1":
        meta["experiment"] = "same-write"
    summary = report.summarise(all_configs, meta, ROOT, experiments)
    print(report.write_all(summary, results_dir()))
    return 0


def results_dir() -> Path:
    """Where the results go: bench/, or bench/same-write/ for that experiment."""
    chosen = os.environ.get("BENCH_RESULTS_DIR")
    if chosen:
        return Path(chosen)
    return ROOT / "bench" / "same-write" if os.environ.get("BENCH_SAME_WRITE") == "1" else ROOT / "bench"


if __name__ == "__main__":
    raise SystemExit(main())
