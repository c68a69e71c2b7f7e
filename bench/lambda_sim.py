"""Invoke the app the way Lambda does: an API Gateway proxy event, a context object and
a fresh `_X_AMZN_TRACE_ID` per invocation (the X-Ray SDK reads it from the environment).

Run as a fresh process, `python -m bench.lambda_sim STEPS_JSON`, it times the import of
the app and every step, and prints one `@@result {json}` line per step on stdout (log
lines and EMF documents go there too). Steps:
  {"op": "http", "method": "GET", "path": "/health", "resource": "/health",
   "principal": "user-1", "request_id": "req-1", "headers": {}, "body": null,
   "path_params": null, "authorizer": null}
  {"op": "authorizer", "token": "Bearer ..."}
  (either may say "sampled": false: the trace header then carries Sampled=0)
  {"op": "env", "set": {"TABLE_NAME": "..."}}   (simulates a config change / an outage)
`--no-observability` installs the NullObserver first (the benchmark's baseline).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import gc  # noqa: E402 - the clock starts before anything is imported
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

RESULT_PREFIX = "@@result "


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context object that chalice and the SDKs read."""

    function_name: str = "storefront-dev"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:storefront-dev"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the simulated Lambda times out."""
        return 10_000


def new_trace_header(sampled: bool = True) -> tuple[str, str]:
    """A trace header as Lambda sets it (sampled or not): (root, header)."""
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return root, f"Root={root};Parent={secrets.token_hex(8)};Sampled={int(sampled)}"


class Sampler:
    """Which requests X-Ray samples: "all" of them, or as the default rule does ("default":
    a reservoir of one request each second, then a fixed rate of 5 % of the rest)."""

    def __init__(self, rule: str, rate: float = 0.05, seed: int = 23) -> None:
        self.rule, self.rate = rule, rate
        self._random = random.Random(seed)
        self._second = -1

    def decide(self, now: float | None = None) -> bool:
        """True when this request is sampled."""
        if self.rule == "all":
            return True
        second = int(time.monotonic() if now is None else now)
        if second != self._second:
            self._second = second
            return True
        return self._random.random() < self.rate


def proxy_event(step: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway (REST, proxy integration) event for one request: the one event builder
    (the benchmark, the integration tests and the deployed-zip test's gateway use it).

    `authorizer` is the authorizer context as the gateway passes it on; `principal` (and
    `role`) is the short form of one."""
    method, path = step.get("method", "GET"), step.get("path", "/health")
    headers = {"Host": "example.execute-api.us-east-1.amazonaws.com", **step.get("headers", {})}
    context: dict[str, Any] = {
        "resourcePath": step.get("resource", path),
        "httpMethod": method,
        "requestId": step.get("request_id") or secrets.token_hex(16),
        "path": f"/api{path}",
        "stage": "api",
        "identity": {"sourceIp": "203.0.113.9"},
    }
    if step.get("authorizer"):
        context["authorizer"] = step["authorizer"]
    elif step.get("principal"):
        context["authorizer"] = {"principalId": step["principal"], "role": step.get("role", "user")}
    body = step.get("body")
    return {
        "resource": context["resourcePath"],
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": step.get("path_params"),
        "stageVariables": None,
        "requestContext": context,
        "body": body if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def authorizer_event(token: str) -> dict[str, Any]:
    """The TOKEN event API Gateway sends a Lambda authorizer."""
    arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/GET/users/me"
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}


def run_step(step: dict[str, Any]) -> dict[str, Any]:
    """One invocation (or environment change), timed; what happened, as a dict."""
    if step["op"] == "env":
        from chalicelib.api import deps

        os.environ.update(step["set"])
        deps.reset()
        return {"op": "env"}
    root, header = new_trace_header(step.get("sampled", True))
    os.environ["_X_AMZN_TRACE_ID"] = header
    started = time.perf_counter()
    if step["op"] == "authorizer":
        from chalicelib.api.auth import jwt_auth

        answer = jwt_auth(authorizer_event(step["token"]), FakeLambdaContext())
        elapsed = (time.perf_counter() - started) * 1000
        effect = answer["policyDocument"]["Statement"][0]["Effect"]
        return {"op": "authorizer", "trace_root": root, "effect": effect, "ms": elapsed}
    from app import app

    response = app(proxy_event(step), FakeLambdaContext())
    elapsed = (time.perf_counter() - started) * 1000
    return {
        "op": "http",
        "trace_root": root,
        "status": response["statusCode"],
        "headers": response["headers"],
        "body": response["body"],
        "ms": elapsed,
        "gc_frozen": gc.get_freeze_count(),
    }


def main(argv: list[str]) -> int:
    """Run the simulated Lambda steps named on the command line; 0 on success."""
    steps = json.loads(argv[-1])
    if "--no-observability" in argv:
        from chalicelib import observability

        observability.install(observability.NullObserver())
    before = time.perf_counter()
    import app  # noqa: F401 - timed: this is the module import a cold start pays

    import_ms = (time.perf_counter() - before) * 1000
    for index, step in enumerate(steps):
        result = run_step(step)
        if index == 0:
            result["import_ms"] = import_ms
            result["since_start_ms"] = (time.perf_counter() - STARTED) * 1000
        sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
