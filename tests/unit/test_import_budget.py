"""Import-time budget of each Lambda entry point (`python -X importtime`).

The API function's handler module is app.py; the authorizer's function imports only
chalicelib/api/auth.py (chalice names its Handler `chalicelib.api.auth.jwt_auth`, see
infra/iam.py). Two checks per entry point:
- what it must not import at all (a heavy package that sneaks in is caught whatever the
  machine's load): the authorizer nothing of the routes' machinery and no model (pydantic);
  app.py no route module (each is imported by its first request, api/lazy_routes.py);
  neither the AWS SDKs, the tracing SDK, Powertools, PyJWT or argon2 (each loaded on first use);
- a ceiling on our own modules' self time (pydantic model building included), the best of
  up to five fresh interpreters. A shared 2-core machine measured app 90-470 ms and the
  authorizer 60-160 ms for single runs as its load went from 2 to 9; the best of several
  stays under the ceilings there. Since routes load lazily, app.py's own modules take about
  what the authorizer's do (26-42 ms for single runs at load 1, 89-200 ms before), so its
  ceiling went from 400 to 120 ms. The ceilings catch a gross regression (tens of ms of
  our own); the forbidden lists above catch a heavy package however small its cost.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.api.route_table import ROUTES

ROOT = Path(__file__).resolve().parents[2]
OURS = ("app", "chalicelib")
LAZY = ("boto3", "botocore", "aws_xray_sdk", "aws_lambda_powertools", "jwt", "argon2")
# The authorizer's one read (store/live_sessions.py) takes the session straight from its item:
# no model, so no pydantic in the authorizer's cold start.
MODELS = ("pydantic", "pydantic_core", "chalicelib.models.common")
ROUTES_MACHINERY = ("chalicelib.api.middleware", "chalicelib.api.http", "chalicelib.api.routes")
# The operator's table (create, scan, batch-write): never in a function (infra/iam.py leaves
# its calls out of the policies on that ground).
OPERATOR_ONLY = ("chalicelib.store.operator",)
# Every route's module: imported by the route's first request, never by app.py itself.
ROUTE_MODULES = tuple(sorted({route.module for route in ROUTES}))
ENTRY_POINTS = {
    "app": (120.0, LAZY + OPERATOR_ONLY + ROUTE_MODULES),
    "chalicelib.api.auth": (150.0, LAZY + MODELS + ROUTES_MACHINERY + OPERATOR_ONLY),
}


def import_times(module: str) -> dict[str, int]:
    """Self time (µs) of every module a fresh interpreter imports for `import module`."""
    env = {**os.environ, "STAGE": "test", "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    times: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _, name = line.removeprefix("import time:").split("|")
            times[name.strip()] = int(self_us)
    return times


def is_ours(name: str) -> bool:
    """True for the project's own modules."""
    return name.split(".")[0] in OURS


def own_self_ms(times: dict[str, int]) -> float:
    """The self time of our own modules, ms."""
    return sum(us for name, us in times.items() if is_ours(name)) / 1000


def _loaded(times: dict[str, int], prefix: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for name in times)


@pytest.mark.parametrize("module", list(ENTRY_POINTS))
def test_an_entry_point_imports_nothing_it_loads_on_first_use(module: str) -> None:
    _, forbidden = ENTRY_POINTS[module]
    times = import_times(module)
    assert module in times  # the parse found the entry point itself
    assert [name for name in forbidden if _loaded(times, name)] == []


@pytest.mark.parametrize("module", list(ENTRY_POINTS))
def test_our_own_modules_import_within_the_budget(module: str) -> None:
    ceiling, _ = ENTRY_POINTS[module]
    best = float("inf")
    for _ in range(5):  # the best of up to five: load on a shared machine only adds time
        best = min(best, own_self_ms(import_times(module)))
        if best <= ceiling:
            break
    assert best <= ceiling, f"{module}: our modules took {best:.0f} ms to import (ceiling {ceiling:.0f} ms)"


def test_the_budget_counts_our_modules_only() -> None:
    times = {"app": 1000, "chalicelib.api.auth": 2000, "pydantic.main": 50_000, "chalicelibx": 7}
    assert own_self_ms(times) == 3.0
