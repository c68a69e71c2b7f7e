"""The handlers' own time, side by side in one process, with DynamoDB answered from memory.

    .venv/bin/python -m bench.own_time [-n 2000] [--pause-ms 0] [--real]

The floor, the Powertools peer and Storefront (logs only) answer the three benchmarked
routes in interleaved chunks, in this one process. After a warm-up against the embedded
engine, botocore's `_make_api_call` for DynamoDB answers every call with the last real
answer of its operation (bench/profile.Replay): what is left is each handler's own work.

- `--pause-ms N`: each answered call first sleeps N ms (the wait for DynamoDB's answer,
  without botocore's work): the handler's code then runs after the process was idle, as it
  does after a real call, and the difference to `--pause-ms 0` is what that idle costs
  the handler (its code and data are no longer in the CPU's caches).
- `--real`: the calls go to the engine, and the time inside `_make_api_call` is subtracted,
  as `make bench` does (one process for all three, so not the published figure).

Prints the median µs per request and the ratio to the floor. docs/performance.md,
"Why every framework is several times the floor".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.run import ROUTES, in_process

TARGETS = ("floor", "powertools", "storefront")
CHUNK = 50


def pause_calls(pause_s: float, inside: list[int]) -> None:
    """Wrap botocore's (replaying) `_make_api_call`: sleep first, count the time as inside."""
    from botocore.client import BaseClient

    answered: Any = getattr(BaseClient, "_make_api_call")  # noqa: B009 - untyped in the stubs

    def paused(client: Any, operation: str, params: dict[str, Any]) -> Any:
        started = time.perf_counter_ns()
        try:
            if pause_s:
                time.sleep(pause_s)
            return answered(client, operation, params)
        finally:
            inside[0] += time.perf_counter_ns() - started

    setattr(BaseClient, "_make_api_call", paused)  # noqa: B010 - untyped in the stubs


def warmed_handlers() -> tuple[dict[str, Callable[..., Any]], dict[str, dict[str, Any]]]:
    """The three targets' handlers, each having served every route 30 times, and the
    lambda_sim step of each route (a product Storefront created, for a GET)."""
    from bench.lambda_sim import FakeLambdaContext, proxy_event
    from bench.worker import OWNER, load_handler, route_step

    handlers: dict[str, Callable[..., Any]] = {target: load_handler(target) for target in TARGETS}
    first = handlers["storefront"](proxy_event(route_step("post", "-", OWNER)), FakeLambdaContext())
    steps = {route: route_step(route, json.loads(first["body"])["id"], OWNER) for route in ROUTES}
    for handler in handlers.values():
        for step in steps.values():
            for _ in range(30):
                handler(proxy_event(step), FakeLambdaContext())
    return handlers, steps


def measure(n: int, pause_s: float, real: bool) -> dict[tuple[str, str], float]:
    """Median µs per (target, route), botocore's time left out."""
    from bench.lambda_sim import FakeLambdaContext, proxy_event
    from bench.profile import Replay

    replay = Replay()
    handlers, steps = warmed_handlers()  # the last answer of each operation is kept
    replay.replaying = not real
    inside = [0]
    pause_calls(0.0 if real else pause_s, inside)
    samples: dict[tuple[str, str], list[float]] = {(t, r): [] for t in TARGETS for r in ROUTES}
    for _ in range(max(1, n // CHUNK)):
        for route, step in steps.items():
            for target, handler in handlers.items():
                for _ in range(CHUNK):
                    event, context = proxy_event(step), FakeLambdaContext()
                    inside[0] = 0
                    started = time.perf_counter_ns()
                    handler(event, context)
                    elapsed = time.perf_counter_ns() - started - inside[0]
                    samples[target, route].append(elapsed / 1000)
    return {key: statistics.median(values) for key, values in samples.items()}


def main(argv: list[str]) -> int:
    """Start the engine and a table, measure, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=2000, help="invocations per target and route")
    parser.add_argument("--pause-ms", type=float, default=0.0)
    parser.add_argument("--real", action="store_true")
    args = parser.parse_args(argv)
    with in_process("logs", "own-"):
        medians = measure(args.n, args.pause_ms / 1000, args.real)
    mode = "real calls" if args.real else f"answers from memory, pause {args.pause_ms:g} ms"
    print(f"own time p50, µs ({mode}; load {os.getloadavg()[0]:.1f})")
    print("| handler | " + " | ".join(ROUTES) + " |")
    for target in TARGETS:
        cells = [
            f"{medians[target, r]:,.0f} ({medians[target, r] / medians['floor', r]:.2f}×)" for r in ROUTES
        ]
        print(f"| {target} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
