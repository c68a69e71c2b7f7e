"""A/B in one process: Storefront's own time with a function as it is (A) and replaced (B).

    .venv/bin/python -m bench.ab [--route get|list|post] [-n 1000] [--pause-ms 5]
                                 [--config logs|production|production-default]
                                 MODULE:ATTR=REPLACEMENT [...]

REPLACEMENT is `noop` (a function that does nothing and returns None: what the piece
costs) or another `MODULE:ATTR` (a candidate implementation: what changing it would
gain). Requests alternate A, B, A, B, ... in the one process, with DynamoDB answered from
memory after a pause of `--pause-ms` inside each call (bench/own_time.py), so both
variants see the same machine: on this machine the median of a request after a pause
moves by ±40 % from one run to the next, while the difference between A and B within a
run holds to a few µs. The replacement is installed on the named object only: a name
imported elsewhere with `from … import` must be replaced where it is looked up.

Prints the median µs of A and of B, their difference, and the difference within each
half of the run (two halves that disagree mean the result is noise).
docs/performance.md, "Measuring a change".
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.own_time import pause_calls
from bench.run import ROUTES, in_process


def _noop(*_: Any, **__: Any) -> None:
    return None


def resolve(spec: str) -> tuple[Any, str]:
    """`package.module:Class.attr` → (the object holding the attribute, its name)."""
    module, _, path = spec.partition(":")
    if not path:
        raise SystemExit(f"{spec}: expected MODULE:ATTR")
    holder: Any = importlib.import_module(module)
    *parents, name = path.split(".")
    for parent in parents:
        holder = getattr(holder, parent)
    getattr(holder, name)  # it must exist
    return holder, name


def swaps(specs: list[str]) -> list[tuple[Any, str, Any, Any]]:
    """(holder, name, the original, its replacement) for each TARGET=REPLACEMENT."""
    found = []
    for spec in specs:
        target, _, replacement = spec.partition("=")
        holder, name = resolve(target)
        if replacement == "noop":
            other: Any = _noop
        else:
            other_holder, other_name = resolve(replacement)
            other = getattr(other_holder, other_name)
        found.append((holder, name, getattr(holder, name), other))
    return found


def measure(route: str, n: int, pause_s: float, specs: list[str]) -> dict[str, list[float]]:
    """Own µs of each of n requests per variant, alternating (in a traced configuration,
    each with a trace header of its own, sampled as the configuration says)."""
    from bench.lambda_sim import FakeLambdaContext, new_trace_header, proxy_event
    from bench.profile import Replay
    from bench.worker import OWNER, load_handler, route_step, sampler

    replay = Replay()
    handler: Callable[..., Any] = load_handler("storefront")
    seed = route_step("post", "-", OWNER)
    made = [handler(proxy_event(seed), FakeLambdaContext()) for _ in range(25)]  # a full list page
    step = route_step(route, json.loads(made[0]["body"])["id"], OWNER)
    for _ in range(50):  # warm up; the last answer of each operation is kept
        handler(proxy_event(step), FakeLambdaContext())
    replaced = swaps(specs)
    sampling = sampler()
    replay.replaying = True
    inside = [0]
    pause_calls(pause_s, inside)
    samples: dict[str, list[float]] = {"A": [], "B": []}
    try:
        for i in range(2 * n):
            variant = "AB"[i % 2]
            for holder, name, original, other in replaced:
                setattr(holder, name, original if variant == "A" else other)
            event, context = proxy_event(step), FakeLambdaContext()
            if sampling is not None:
                os.environ["_X_AMZN_TRACE_ID"] = new_trace_header(sampling.decide())[1]
            inside[0] = 0
            started = time.perf_counter_ns()
            handler(event, context)
            samples[variant].append((time.perf_counter_ns() - started - inside[0]) / 1000)
    finally:
        for holder, name, original, _ in replaced:
            setattr(holder, name, original)
    return samples


def summary(samples: dict[str, list[float]]) -> str:
    """Medians of A and B, their difference, and the difference in each half."""
    a, b = statistics.median(samples["A"]), statistics.median(samples["B"])
    half = len(samples["A"]) // 2
    halves = [
        statistics.median(samples["A"][part]) - statistics.median(samples["B"][part])
        for part in (slice(0, half), slice(half, None))
    ]
    return (
        f"A (as it is) {a:,.0f} µs, B (replaced) {b:,.0f} µs: A - B = {a - b:+,.0f} µs "
        f"(halves {halves[0]:+,.0f}, {halves[1]:+,.0f})"
    )


def main(argv: list[str]) -> int:
    """Start the engine and a table, measure, print the result."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--route", choices=ROUTES, default="get")
    parser.add_argument("-n", type=int, default=1000, help="requests per variant")
    parser.add_argument("--pause-ms", type=float, default=5.0)
    parser.add_argument("--config", choices=("logs", "production", "production-default"), default="logs")
    parser.add_argument("swap", nargs="+", help="MODULE:ATTR=noop or MODULE:ATTR=MODULE:ATTR")
    args = parser.parse_args(argv)
    with in_process(args.config, "ab-"):
        samples = measure(args.route, args.n, args.pause_ms / 1000, args.swap)
    print(
        f"{args.route} ({args.config}), pause {args.pause_ms:g} ms, {args.n} requests each; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(summary(samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
