"""`make bench`: cold start of the Lambda handler, with and without observability.

Cold start = a fresh Python process → `import app` → the first `GET /health` answered
through the Lambda handler (`app.app(event, context)` with an API Gateway proxy event),
measured from the parent (process spawn to the response line), median of RUNS runs per
variant. Variants are interleaved run by run so that machine load hits them alike.
Results: printed, and written to bench/results.md.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.lambda_sim import RESULT_PREFIX

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
BENCH_SECRET = "bench-only-jwt-secret-0123456789abcdef0123456789"  # noqa: S105 - never deployed
HEALTH = json.dumps([{"op": "http", "method": "GET", "path": "/health"}])


@dataclass
class Variant:
    """One benchmarked configuration and its measured figures."""

    name: str
    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    import_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)


def _variants(daemon_port: int) -> list[Variant]:
    off = {"AWS_XRAY_SDK_ENABLED": "false", "METRICS_ENABLED": "false"}
    lambda_env = {
        "AWS_XRAY_SDK_ENABLED": "true",
        "METRICS_ENABLED": "true",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon_port}",
    }
    return [
        Variant("without observability (NullObserver)", off, ["--no-observability"]),
        Variant("logs + metrics (X-Ray off, as local)", {**off, "METRICS_ENABLED": "true"}),
        Variant("logs + metrics + X-Ray (simulated Lambda)", lambda_env),
    ]


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_XRAY", "LAMBDA_", "_X_AMZN"))}
    env.update(
        STAGE="test",
        JWT_SECRET=BENCH_SECRET,
        AWS_DEFAULT_REGION="us-east-1",
        TABLE_NAME="bench",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_once(variant: Variant, base_env: dict[str, str]) -> None:
    """One fresh process; records wall, import and first-request times."""
    args = [sys.executable, "-m", "bench.lambda_sim", *variant.args, HEALTH]
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, env={**base_env, **variant.env}, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    result = None
    for line in proc.stdout:
        if line.startswith(RESULT_PREFIX):
            variant.wall_ms.append((time.perf_counter() - started) * 1000)
            result = json.loads(line[len(RESULT_PREFIX) :])
    proc.wait(timeout=60)
    if result is None or result["status"] != 200:
        raise RuntimeError(f"{variant.name}: no 200 from /health ({result})")
    variant.import_ms.append(result["import_ms"])
    variant.first_ms.append(result["ms"])


def _row(variant: Variant, baseline: float) -> str:
    wall = statistics.median(variant.wall_ms)
    delta = f"{wall - baseline:+.0f}" if variant.args == [] else "baseline"
    spread = f"{min(variant.wall_ms):.0f}-{max(variant.wall_ms):.0f}"
    return (
        f"| {variant.name} | {wall:.0f} | {delta} | {statistics.median(variant.import_ms):.0f} "
        f"| {statistics.median(variant.first_ms):.1f} | {spread} |"
    )


def render(variants: list[Variant]) -> str:
    """The results as a Markdown table."""
    baseline = statistics.median(variants[0].wall_ms)
    lines = [
        "| variant | cold start, median ms | vs. without | import app, ms | first /health, ms | range ms |",
        "|---|---:|---:|---:|---:|---:|",
        *(_row(v, baseline) for v in variants),
    ]
    return "\n".join(lines)


def main() -> int:
    """Run every benchmark variant and print the results."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:  # absorbs the trace datagrams
        daemon.bind(("127.0.0.1", 0))
        variants = _variants(daemon.getsockname()[1])
        base_env = _base_env()
        for _ in range(RUNS):
            for variant in variants:
                run_once(variant, base_env)
    table = render(variants)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    machine = f"Python {platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}), load {load}"
    RESULTS.write_text(
        f"# Cold start benchmark\n\n`make bench`, {when}, {machine}, {RUNS} runs per variant "
        "(median; variants interleaved).\n\nCold start = process spawn → `import app` → first "
        '`GET /health` answered by the Lambda handler. "first /health" is measured inside the '
        "process (the handler call alone): the cost observability adds to a cold request.\n\n" + table + "\n",
        encoding="utf-8",
    )
    print(table)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
