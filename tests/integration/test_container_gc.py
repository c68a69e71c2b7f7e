"""A warm container's long-lived objects are out of the garbage collector's sight after its
first request (the Lambda handler in a fresh process, as a cold container runs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.lambda_sim import RESULT_PREFIX
from tests.helpers import run_python

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_first_request_freezes_what_the_container_built_and_later_ones_do_not() -> None:
    steps = [{"op": "http", "path": "/health"}, {"op": "http", "path": "/health"}]
    env = {**os.environ, "AWS_XRAY_SDK_ENABLED": "false"}
    args = [sys.executable, "-m", "bench.lambda_sim", json.dumps(steps)]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    first, second = (
        json.loads(line[len(RESULT_PREFIX) :])
        for line in done.stdout.splitlines()
        if line.startswith(RESULT_PREFIX)
    )
    assert (first["status"], second["status"]) == (200, 200)
    assert first["gc_frozen"] > 10_000  # the app, chalice, pydantic: far more than a request makes
    assert second["gc_frozen"] <= first["gc_frozen"]  # frozen once, not per request


def test_importing_the_app_builds_no_pydantic_model() -> None:
    # Every model builds its validator on first use (defer_build), not at each cold start.
    # (Pydantic completes the generic Page itself when the route table parametrises it.)
    probe = "\n".join(
        [
            "import app, pydantic",
            "seen, todo = [], [pydantic.BaseModel]",
            "while todo:",
            "    model = todo.pop()",
            "    todo += model.__subclasses__()",
            "    seen.append(model)",
            "built = [m.__qualname__ for m in seen[1:] if m.__pydantic_complete__]",
            "print([name for name in built if name != 'Page'])",
        ]
    )
    assert run_python(probe, timeout=60).strip() == "[]"
