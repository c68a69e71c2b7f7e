"""What the session check costs the authorizer: one consistent GetItem per decision.

Against the embedded engine on loopback (moto under one lock: its latency is the local
engine's, not DynamoDB's; DynamoDB's own single-digit-millisecond GetItem plus a warm
in-region connection is the deployed figure to expect). Run: `python -m bench.authorizer_session`.
Prints the median and p95 of N decisions: the JWT check alone, the session GetItem alone,
and the whole authorizer (both), in milliseconds.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tools import processes

N = int(os.environ.get("BENCH_RUNS", "300"))


def _summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"| {name} | {statistics.median(samples):.2f} | {p95:.2f} |"


def _time(call: Callable[[], object]) -> list[float]:
    for _ in range(20):  # warm the connection and the caches
        call()
    samples = []
    for _ in range(N):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    """Start an engine, time the decisions, print the table."""
    port = processes.free_port()
    os.environ.update(
        {
            "STAGE": "test",
            "AWS_XRAY_SDK_ENABLED": "false",
            "METRICS_ENABLED": "false",
            "JWT_SECRET": "bench-only-jwt-secret-0123456789abcdef0123456789",
            "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}",
            "TABLE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    engine = processes.start_engine(port, log=Path(tempfile.mkdtemp()) / "engine.log")
    try:
        from chalice.app import AuthRequest

        from chalicelib.api import deps
        from chalicelib.api.auth import authorize
        from chalicelib.config import get_settings
        from chalicelib.security.keys import get_keyring
        from chalicelib.security.tokens import verify_token
        from chalicelib.store.sessions import SessionStore
        from manage import create_table
        from tests.helpers import token_for

        create_table(deps.get_table())
        token = token_for("bench-user")
        claims = verify_token(token, get_keyring(), get_settings())
        request = AuthRequest("TOKEN", f"Bearer {token}", "arn:aws:execute-api:us-east-1:1:a/api/GET/x")
        table = deps.get_session_table()
        now = int(time.time())
        rows = [
            _summary(
                "JWT verification only", _time(lambda: verify_token(token, get_keyring(), get_settings()))
            ),
            _summary(
                "session GetItem only (consistent)",
                _time(lambda: SessionStore(table).get_live(claims.user_id, claims.session_id, now)),
            ),
            _summary("whole authorizer decision", _time(lambda: authorize(request))),
        ]
    finally:
        processes.stop(engine)
    print(f"authorizer cost, {N} decisions each, local engine on loopback (ms)")
    print("| step | median | p95 |\n|---|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
