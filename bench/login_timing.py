"""Login timing, known vs unknown e-mail: a report, never a test assertion.

Runs the login use case against the embedded engine with the OWASP Argon2 policy, 100
interleaved tries each of "registered address, wrong password" and "unregistered address",
and reports the medians, the Mann-Whitney U statistic (normal approximation, z and
two-sided p) and a permutation test of the difference of medians. A timing gap would show
as |z| well above 2 and a small p. On a shared 2-core machine the noise is large, which is
why this is a benchmark and not a test.

    .venv/bin/python -m bench.login_timing [--tries 100]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RIGHT, WRONG = "right password", "wrong password"


def mann_whitney_z(a: list[float], b: list[float]) -> tuple[float, float]:
    """U's z score (normal approximation, tie-corrected ranks) and its two-sided p value."""
    ranked = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, (_, group) in zip(ranks, ranked, strict=True) if group == 0)
    n1, n2 = len(a), len(b)
    u = rank_sum - n1 * (n1 + 1) / 2
    mean, sd = n1 * n2 / 2, math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - mean) / sd
    return z, math.erfc(abs(z) / math.sqrt(2))


def permutation_p(a: list[float], b: list[float], rounds: int = 5000, seed: int = 7) -> float:
    """Two-sided p value of the difference of medians under random relabelling."""
    observed = abs(statistics.median(a) - statistics.median(b))
    pooled, rng, hits = a + b, random.Random(seed), 0
    for _ in range(rounds):
        rng.shuffle(pooled)
        if abs(statistics.median(pooled[: len(a)]) - statistics.median(pooled[len(a) :])) >= observed:
            hits += 1
    return (hits + 1) / (rounds + 1)


def measure(tries: int) -> tuple[list[float], list[float]]:
    """Milliseconds per login: (known e-mail + wrong password, unknown e-mail), interleaved."""
    from chalicelib.api import deps
    from chalicelib.config import get_settings
    from chalicelib.errors import InvalidCredentialsError
    from chalicelib.models.users import TokenRequest, UserCreate
    from chalicelib.security.keys import get_keyring
    from chalicelib.security.passwords import DEFAULT_POLICY, PasswordHasher
    from chalicelib.services import auth, users
    from chalicelib.services.lockout import LockoutPolicy
    from manage import create_table

    table = deps.get_table()
    create_table(table)
    hasher = PasswordHasher(DEFAULT_POLICY)
    users.register_user(table, UserCreate(email="ada@example.com", password=RIGHT, name="Ada"), hasher)
    issuer = auth.TokenIssuer(keyring=get_keyring(), settings=get_settings())
    roomy = LockoutPolicy(max_failures=10 * tries)
    known: list[float] = []
    unknown: list[float] = []
    for i in range(2 * tries + 2):
        email = "ada@example.com" if i % 2 else "nobody@example.com"
        started = time.perf_counter()
        with contextlib.suppress(InvalidCredentialsError):
            auth.login(table, TokenRequest(email=email, password=WRONG), hasher, issuer, roomy)
        elapsed = (time.perf_counter() - started) * 1000
        if i >= 2:  # the first pair warms the dummy hash and the connection
            (known if i % 2 else unknown).append(elapsed)
    return known, unknown


@contextmanager
def own_engine() -> Iterator[Path]:
    """A fresh embedded engine on a free port and a table name of its own, set in the
    environment for the code measured; yields a scratch directory, stops the engine after."""
    from tools import processes

    port = processes.free_port()
    os.environ.update(
        {
            "STAGE": "local",
            "AWS_XRAY_SDK_ENABLED": "false",
            "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}",
            "TABLE_NAME": f"timing-{uuid.uuid4().hex[:8]}",
            "METRICS_ENABLED": "false",
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = processes.start_engine(port, log=Path(tmp) / "engine.log")
        try:
            yield Path(tmp)
        finally:
            processes.stop(engine)


def main() -> int:
    """Start an engine, measure, print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.login_timing")
    parser.add_argument("--tries", type=int, default=100)
    args = parser.parse_args()
    with own_engine():
        known, unknown = measure(args.tries)
    z, p = mann_whitney_z(known, unknown)
    print(f"tries each: {len(known)}")
    print(f"known e-mail, wrong password: median {statistics.median(known):.1f} ms")
    print(f"unknown e-mail:               median {statistics.median(unknown):.1f} ms")
    print(f"Mann-Whitney U: z = {z:.2f}, two-sided p = {p:.3f}")
    print(f"permutation test (difference of medians): p = {permutation_p(known, unknown):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
