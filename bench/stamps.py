"""Where a request's own time goes, before and after its DynamoDB call, with the real engine.

    .venv/bin/python -m bench.stamps [--route get|list|post] [-n 600]
                                     [--config logs|production|production-default]
                                     [--target storefront|powertools|floor ...] [MODULE:ATTR ...]

The floor, the Powertools peer and Storefront run in one process, interleaved in chunks
(as bench/own_time.py --real), against the embedded engine. Each invocation records a
timestamp at its start and end, around botocore's `_make_api_call` for DynamoDB (wrapped
before any handler runs, so a tracer's wrapper around the call stays outside it, as in
`make bench`), and on entry to and exit from each named function. Printed for each
chosen target (Storefront by default): the median µs between consecutive stamps, so the
pieces before and after the wait for DynamoDB can be told apart (`call>` … `call<` is the
call itself, left out). Each stamp costs ~1 µs; a segment seen twice in one request (a
function called twice) is summed.
A name imported elsewhere with `from … import` must be stamped where it is looked up
(bench/ab.py resolves names the same way). With BENCH_SAME_WRITE=1 the floor and the
peer write a POST as Storefront does (bench/floor.py). docs/performance.md, "What was
cut, and what is left".
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.ab import resolve
from bench.own_time import TARGETS
from bench.run import ROUTES, in_process

CHUNK = 50
CALL = "call"


def stamped(function: Callable[..., Any], name: str, marks: list[tuple[str, int]]) -> Callable[..., Any]:
    """`function`, recording (name>, t) on entry and (name<, t) on exit in `marks`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        marks.append((f"{name}>", time.perf_counter_ns()))
        try:
            return function(*args, **kwargs)
        finally:
            marks.append((f"{name}<", time.perf_counter_ns()))

    return wrapper


def segments(marks: list[tuple[str, int]]) -> dict[str, float]:
    """µs between consecutive stamps, by 'a -> b'; the DynamoDB call itself left out.
    A pair seen twice in one request is summed."""
    found: dict[str, float] = {}
    for (first, at), (then, until) in itertools.pairwise(marks):
        if (first, then) == (f"{CALL}>", f"{CALL}<"):
            continue
        key = f"{first} -> {then}"
        found[key] = found.get(key, 0.0) + (until - at) / 1000
    return found


def measure(route: str, n: int, specs: list[str]) -> dict[str, dict[str, list[float]]]:
    """Per target, the µs of each segment of each of n requests."""
    from botocore.client import BaseClient

    from bench.lambda_sim import FakeLambdaContext, new_trace_header, proxy_event
    from bench.own_time import warmed_handlers
    from bench.worker import sampler

    marks: list[tuple[str, int]] = []
    api_call: Any = getattr(BaseClient, "_make_api_call")  # noqa: B009 - untyped in the stubs
    setattr(BaseClient, "_make_api_call", stamped(api_call, CALL, marks))  # noqa: B010
    handlers, steps = warmed_handlers()
    step = steps[route]
    for spec in specs:  # after the first requests: what they set up (X-Ray's patch) is stamped too
        holder, name = resolve(spec)
        setattr(holder, name, stamped(getattr(holder, name), name, marks))
    sampling = sampler()  # as bench/worker.py decides (None: the configuration does not trace)
    for handler in handlers.values():
        for _ in range(30):
            handler(proxy_event(step), FakeLambdaContext())
    samples: dict[str, dict[str, list[float]]] = {target: {} for target in TARGETS}
    for _ in range(max(1, n // CHUNK)):
        for target, handler in handlers.items():
            for _ in range(CHUNK):
                event, context = proxy_event(step), FakeLambdaContext()
                if sampling is not None:
                    os.environ["_X_AMZN_TRACE_ID"] = new_trace_header(sampling.decide())[1]
                marks.clear()
                marks.append(("start", time.perf_counter_ns()))
                handler(event, context)
                marks.append(("end", time.perf_counter_ns()))
                for key, micros in segments(marks).items():
                    samples[target].setdefault(key, []).append(micros)
    return samples


def main(argv: list[str]) -> int:
    """Start the engine and a table, measure, print the target's segments."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--route", choices=ROUTES, default="post")
    parser.add_argument("-n", type=int, default=600, help="invocations per target")
    parser.add_argument("--config", choices=("logs", "production", "production-default"), default="logs")
    parser.add_argument("--target", choices=TARGETS, action="append", help="storefront unless given")
    parser.add_argument("functions", nargs="*", metavar="MODULE:ATTR")
    args = parser.parse_args(argv)
    with in_process(args.config, "stamps-"):
        samples = measure(args.route, args.n, args.functions)
    # stdout is the handlers' log file while in_process runs; the tables are printed after it.
    load = os.getloadavg()[0]
    for target in args.target or ["storefront"]:
        print(f"{target}, {args.route}, {args.config}: median µs between stamps (load {load:.1f})")
        for key, values in samples[target].items():
            if len(values) >= args.n // 2:  # segments of most requests, not of a rare path
                print(f"  {key:48s} {statistics.median(values):8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
