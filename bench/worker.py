"""One benchmark process: a Lambda handler called with API Gateway proxy events.

    python -m bench.worker TARGET MODE RESULT_FD

TARGET is `floor` (bench/floor.py), `storefront` (app.py) or `products-only`
(bench/products_only.py, cold only); its configuration (logs
only, or production with metrics and X-Ray) comes from the environment the parent sets.
Results are JSON lines written to the file descriptor RESULT_FD (stdout carries the
app's own log lines, as in Lambda).

- `cold`: import the handler module, then answer `GET /products/{id}` twice; report the
  start instant (CLOCK_MONOTONIC, comparable with the parent's), the import, both calls
  and the peak RSS, then exit.
- `warm`: import, then read commands from stdin, one JSON line each:
  {"route": "get" | "list" | "post", "n": 100, "product_id": "..."} → n invocations, each reported as
  [total ns, ns inside DynamoDB calls, DynamoDB calls, status]; {"rss": true} → peak RSS.

Time inside DynamoDB = the whole of botocore's `BaseClient._make_api_call` for a DynamoDB
client (validation, serialisation, signing, the HTTP exchange, parsing), for every handler
alike: overhead is what the handler spends outside it.

X-Ray sampling (production configurations): BENCH_SAMPLING=all marks every request sampled
(`Sampled=1`), BENCH_SAMPLING=default decides as API Gateway's default rule does: the first
request of each second, then 5 % of the rest.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()

import importlib  # noqa: E402 - the clock starts before anything is imported
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import IO, Any  # noqa: E402

from bench.lambda_sim import FakeLambdaContext, Sampler, new_trace_header, proxy_event  # noqa: E402

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
ENTRY_POINTS = {
    "floor": ("bench.floor", "handler"),
    "powertools": ("bench.peer_powertools", "handler"),
    "chalice": ("bench.peer_chalice", "app"),
    "storefront": ("app", "app"),
    "products-only": ("bench.products_only", "app"),
}
PRODUCT = {"name": "Bench teapot", "description": "Cast iron, 1 l", "price": 19.99, "stock": 3}


OWNER = "bench-owner"  # a user item bench/run.py creates: product writes check their owner exists


def route_step(route: str, product_id: str, owner: str) -> dict[str, Any]:
    """The lambda_sim step of one of the three benchmarked routes."""
    if route == "get":
        return {
            "path": f"/products/{product_id}",
            "resource": "/products/{product_id}",
            "path_params": {"product_id": product_id},
        }
    if route == "list":
        return {"path": "/products"}
    return {
        "method": "POST",
        "path": "/products",
        "principal": owner,
        "headers": {"Content-Type": "application/json"},
        "body": PRODUCT,
    }


def load_handler(target: str) -> Handler:
    """Import the target's module (timed by the caller); its Lambda handler."""
    module, attribute = ENTRY_POINTS[target]
    handler: Handler = getattr(importlib.import_module(module), attribute)
    return handler


def peak_rss_kib() -> int:
    """This process's peak resident set size, KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def sampler() -> Sampler | None:
    """The X-Ray sampling of this process (None: no tracing), from its environment."""
    if os.environ.get("AWS_XRAY_SDK_ENABLED") != "true":
        return None
    return Sampler(os.environ.get("BENCH_SAMPLING", "all"))


def invoke(handler: Handler, step: dict[str, Any], traced: Sampler | None) -> tuple[dict[str, Any], int]:
    """One invocation as Lambda makes it; (response, handler time in ns)."""
    event, context = proxy_event(step), FakeLambdaContext()
    if traced is not None:
        os.environ["_X_AMZN_TRACE_ID"] = new_trace_header(traced.decide())[1]
    started = time.perf_counter_ns()
    response = handler(event, context)
    return response, time.perf_counter_ns() - started


def cold(target: str, out: IO[str]) -> None:
    """Import, answer GET /products/{id} twice, report the timings."""
    traced = sampler()
    before = time.monotonic()
    handler = load_handler(target)
    imported = time.monotonic()
    step = route_step("get", os.environ["BENCH_PRODUCT_ID"], OWNER)
    first, first_ns = invoke(handler, step, traced)
    answered = time.monotonic()
    second, second_ns = invoke(handler, step, traced)
    report = {
        "started": STARTED,
        "import_started": before,
        "import_s": imported - before,
        "first_s": first_ns / 1e9,
        "answered": answered,
        "second_s": second_ns / 1e9,
        "status": [first["statusCode"], second["statusCode"]],
        "rss_kib": peak_rss_kib(),
    }
    out.write(json.dumps(report) + "\n")


class DynamoClock:
    """Time spent inside botocore's `_make_api_call` for DynamoDB, the whole call:
    validation, serialisation, endpoint rules, signing, the HTTP exchange and parsing.
    botocore's work is the same whatever handler makes the call, so it is not overhead.
    Any tracing wrapped around the call later (X-Ray patches the same method, outside this
    wrapper) stays in the overhead: that is the app's, not botocore's."""

    def __init__(self) -> None:
        self.inside_ns = 0
        self.calls = 0

    def install(self) -> None:
        """Wrap BaseClient._make_api_call, before any handler module is imported."""
        from botocore.client import BaseClient

        original: Any = getattr(BaseClient, "_make_api_call")  # noqa: B009 - untyped in the stubs

        def timed(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return original(client, operation, params)
            started = time.perf_counter_ns()
            try:
                return original(client, operation, params)
            finally:
                self.inside_ns += time.perf_counter_ns() - started
                self.calls += 1

        setattr(BaseClient, "_make_api_call", timed)  # noqa: B010 - untyped in the stubs

    def reset(self) -> None:
        """Start counting a new request."""
        self.inside_ns = self.calls = 0


def warm(target: str, out: IO[str]) -> None:
    """Import, then answer commands from stdin until it closes."""
    traced = sampler()
    clock = DynamoClock()
    clock.install()
    handler = load_handler(target)
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("rss"):
            out.write(json.dumps({"rss_kib": peak_rss_kib()}) + "\n")
            out.flush()
            continue
        step = route_step(command["route"], command.get("product_id", "-"), OWNER)
        samples, created = [], []
        for _ in range(command["n"]):
            clock.reset()
            response, total_ns = invoke(handler, step, traced)
            samples.append([total_ns, clock.inside_ns, clock.calls, response["statusCode"]])
            if command["route"] == "post" and response["statusCode"] == 201:
                created.append(json.loads(response["body"])["id"])
        out.write(json.dumps({"samples": samples, "created": created}) + "\n")
        out.flush()


def main(argv: list[str]) -> int:
    """python -m bench.worker TARGET MODE RESULT_FD."""
    target, mode, fd = argv
    with os.fdopen(int(fd), "w") as out:
        (cold if mode == "cold" else warm)(target, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
