"""Where a warm request's time goes: one route of Storefront under cProfile, in-process.

    .venv/bin/python -m bench.profile [--route get|list|post] [--config logs|production]
                                      [-n 2000] [--sort tottime|cumulative] [--top 40]
                                      [--filter REGEX]

Starts the embedded engine on a free port, makes a table, seeds it through the handler,
warms the route up, then profiles n invocations through the Lambda handler (API Gateway
proxy events, as `make bench` makes them) and prints the top functions. For imports:
`python -X importtime -m bench.worker storefront cold 1` (with the same environment).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import socket
import sys
import tempfile
import uuid
from pathlib import Path

from bench.run import base_env, configs, create_table
from tools import processes


def main(argv: list[str]) -> int:
    """Parse the arguments, start the engine, profile, print the statistics."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--route", choices=("get", "list", "post"), default="get")
    parser.add_argument("--config", choices=("logs", "production"), default="logs")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--filter", default="", help="regex on file:function, e.g. chalicelib")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="profile-") as tmp,
        socket.socket(type=socket.SOCK_DGRAM) as daemon,
    ):
        daemon.bind(("127.0.0.1", 0))
        port = processes.free_port()
        engine = processes.start_engine(port, log=Path(tmp) / "engine.log")
        try:
            config = next(c for c in configs(daemon.getsockname()[1]) if c.key == args.config)
            os.environ.update(
                {
                    **base_env(
                        f"http://127.0.0.1:{port}", f"prof-{uuid.uuid4().hex[:8]}", Path(tmp) / "pycache"
                    ),
                    **config.env,
                }
            )
            sys.stdout = open(Path(tmp) / "app.log", "w")  # noqa: SIM115 - the app's log lines
            stats = profile(args.route, args.n)
        finally:
            sys.stdout = sys.__stdout__
            processes.stop(engine)
    stats.stream = sys.stdout  # type: ignore[attr-defined]
    restrictions = [args.filter, args.top] if args.filter else [args.top]
    stats.sort_stats(args.sort).print_stats(*restrictions)
    return 0


def profile(route: str, n: int) -> pstats.Stats:
    """Seed, warm up, then profile n invocations of one route; the statistics."""
    import boto3

    from bench.lambda_sim import FakeLambdaContext, new_trace_header, proxy_event
    from bench.worker import invoke, load_handler, route_step

    client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"], region_name="us-east-1")
    create_table(client, os.environ["TABLE_NAME"])
    handler = load_handler("storefront")
    traced = os.environ["AWS_XRAY_SDK_ENABLED"] == "true"
    seed = route_step("post", "-", "profile-owner")
    ids = [json.loads(invoke(handler, seed, traced)[0]["body"])["id"] for _ in range(25)]
    step = route_step(route, ids[0], "profile-owner")
    for _ in range(50):
        invoke(handler, step, traced)
    profiler = cProfile.Profile()
    for _ in range(n):
        event, context = proxy_event(step), FakeLambdaContext()
        if traced:
            os.environ["_X_AMZN_TRACE_ID"] = new_trace_header()[1]
        profiler.enable()
        handler(event, context)
        profiler.disable()
    return pstats.Stats(profiler)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
