"""Where a warm request's time goes: one route of Storefront under cProfile, in-process.

    .venv/bin/python -m bench.profile [--route get|list|post] [--config logs|production|production-default]
                                      [-n 2000] [--sort tottime|cumulative] [--top 40]
                                      [--filter REGEX] [--breakdown] [--replay]

Starts the embedded engine on a free port, makes a table, seeds it through the handler,
warms the route up, then profiles n invocations through the Lambda handler (API Gateway
proxy events, as `make bench` makes them) and prints the top functions. `--replay` answers
DynamoDB from each operation's last real answer, so the app's own time stands alone (its
median, unprofiled, is printed first). For imports:
`python -X importtime -m bench.worker storefront cold 1` (with the same environment).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
from typing import Any

from bench.run import in_process


def main(argv: list[str]) -> int:
    """Parse the arguments, start the engine, profile, print the statistics."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--route", choices=("get", "list", "post"), default="get")
    parser.add_argument("--config", choices=("logs", "production", "production-default"), default="logs")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--filter", default="", help="regex on file:function, e.g. chalicelib")
    parser.add_argument("--breakdown", action="store_true", help="the pieces of a request, µs each")
    parser.add_argument(
        "--replay",
        action="store_true",
        help="botocore's DynamoDB calls answered from recorded answers: only the app's own time",
    )
    args = parser.parse_args(argv)
    with in_process(args.config, "prof-"):
        stats = profile(args.route, args.n, args.replay)
    if args.breakdown:
        print(breakdown(stats, args.n))
        return 0
    stats.stream = sys.stdout  # type: ignore[attr-defined]
    restrictions = [args.filter, args.top] if args.filter else [args.top]
    stats.sort_stats(args.sort).print_stats(*restrictions)
    return 0


# (label, file suffix, function): inclusive time per request of the pieces of a request.
PIECES = [
    ("the handler, all of it", "chalice/app.py", "__call__"),
    ("inside botocore's send (≈ the DynamoDB window)", "botocore/client.py", "_make_request"),
    ("botocore: validate + serialise the request", "botocore/client.py", "_convert_to_request_dict"),
    ("botocore: endpoint rules", "botocore/client.py", "_resolve_endpoint_ruleset"),
    ("middleware (everything around the route)", "chalicelib/api/middleware.py", "handle_http"),
    ("  the route itself", "chalicelib/api/middleware.py", "_respond"),
    ("  access line + metrics", "chalicelib/api/middleware.py", "_report"),
    ("  X-Ray subsegment of the request", "chalicelib/observability/tracing.py", "span"),
    ("pydantic validation (models)", "pydantic/main.py", "model_validate"),
    ("pydantic dumps (models → dicts)", "pydantic/main.py", "model_dump"),
    ("JSON out (jsonio.dumps)", "chalicelib/jsonio.py", "dumps"),
    ("JSON in (jsonio.loads)", "chalicelib/jsonio.py", "loads"),
    ("items → wire (codec.to_attributes)", "chalicelib/store/codec.py", "to_attributes"),
    ("wire → items (codec.from_attributes)", "chalicelib/store/codec.py", "from_attributes"),
    ("signed cursor (encode)", "chalicelib/store/cursor.py", "encode"),
    ("X-Ray: botocore patch (whole call)", "aws_xray_sdk/ext/botocore/patch.py", "_xray_traced_botocore"),
]


def breakdown(stats: pstats.Stats, n: int) -> str:
    """Inclusive µs per request of each piece (under cProfile, which inflates Python calls)."""
    totals: dict[tuple[str, str], float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, _, cumulative, _) in raw.items():
        for _, suffix, name in PIECES:
            if function == name and filename.endswith(suffix):
                key = (suffix, name)
                totals[key] = max(totals.get(key, 0.0), cumulative)
    lines = ["| piece | µs per request (profiled) |", "|---|---:|"]
    for label, suffix, name in PIECES:
        if (suffix, name) in totals:
            lines.append(f"| {label} | {totals[suffix, name] / n * 1e6:,.0f} |")
    return "\n".join(lines)


class Replay:
    """botocore's `_make_api_call` for DynamoDB, answered from the last real answer of each
    operation: with it, a request's time is the app's own (no botocore, no engine)."""

    def __init__(self) -> None:
        from botocore.client import BaseClient

        self.original: Any = getattr(BaseClient, "_make_api_call")  # noqa: B009 - untyped in the stubs
        self.answers: dict[str, Any] = {}
        self.replaying = False

        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return self.original(client, operation, params)
            if self.replaying:
                return self.answers[operation]
            self.answers[operation] = answer = self.original(client, operation, params)
            return answer

        setattr(BaseClient, "_make_api_call", call)  # noqa: B010 - untyped in the stubs


def timed(handler: Any, step: dict[str, Any], n: int, traced: Any = None) -> float:
    """Median µs of n unprofiled invocations (each with a trace header of its own when
    traced, as Lambda sets one per invocation: sampled as `traced` decides)."""
    import statistics
    import time

    from bench.lambda_sim import FakeLambdaContext, new_trace_header, proxy_event

    samples = []
    for _ in range(n):
        event, context = proxy_event(step), FakeLambdaContext()
        if traced is not None:
            os.environ["_X_AMZN_TRACE_ID"] = new_trace_header(traced.decide())[1]
        started = time.perf_counter_ns()
        handler(event, context)
        samples.append((time.perf_counter_ns() - started) / 1000)
    return statistics.median(samples)


def profile(route: str, n: int, replay: bool = False) -> pstats.Stats:
    """Seed, warm up, then profile n invocations of one route; the statistics. With `replay`,
    first print the median unprofiled time of n invocations (botocore replayed)."""

    from bench.lambda_sim import FakeLambdaContext, new_trace_header, proxy_event
    from bench.worker import OWNER, invoke, load_handler, route_step, sampler

    replayed = Replay() if replay else None
    handler = load_handler("storefront")
    traced = sampler()
    seed = route_step("post", "-", OWNER)
    ids = [json.loads(invoke(handler, seed, traced)[0]["body"])["id"] for _ in range(25)]
    step = route_step(route, ids[0], OWNER)
    for _ in range(50):
        invoke(handler, step, traced)
    if replayed is not None:
        replayed.replaying = True
        median = timed(handler, step, n, traced)
        print(f"{route}: {median:.0f} µs per request, unprofiled", file=sys.__stdout__)
    profiler = cProfile.Profile()
    for _ in range(n):
        event, context = proxy_event(step), FakeLambdaContext()
        if traced is not None:
            os.environ["_X_AMZN_TRACE_ID"] = new_trace_header(traced.decide())[1]
        profiler.enable()
        handler(event, context)
        profiler.disable()
    return pstats.Stats(profiler)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
