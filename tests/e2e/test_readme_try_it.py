"""README.md's "Try it" block, run as written against a live `chalice local` with the demo data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

import manage
from chalicelib.api import deps

README = Path(__file__).resolve().parents[2] / "README.md"


def python_block() -> str:
    """The README's first ```python block (the typed client's login)."""
    found = re.search(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert found, "no python block in the README"
    return found.group(1)


def try_it_block() -> str:
    """The first ```bash block under the README's "## Try it" heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```bash\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert found, "no bash block under ## Try it"
    return found.group(1)


def _run(block: str, port: int) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "PORT": str(port), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        ["/bin/bash", "-c", block], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture
def demo(live: str) -> int:
    """The live server with `make run`'s demo data; its port."""
    manage.seed(deps.get_table())
    port = urlsplit(live).port
    assert port is not None
    return port


def test_the_try_it_block_runs_and_places_an_order(demo: int) -> None:
    result = _run(try_it_block(), demo)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert json.loads(lines[0])["status"] == "ok"
    order = json.loads(lines[2])
    assert order["status"] == "placed"
    assert order["items"][0]["quantity"] == 2
    assert json.loads(lines[3])["stock"] == 1


def test_the_try_it_block_stops_loudly_when_the_login_fails(demo: int) -> None:
    block = try_it_block().replace("storefront-demo-123", "not-the-password")
    result = _run(block, demo)
    assert result.returncode != 0
    assert "unauthorized" in result.stdout + result.stderr
    assert "Teapot" not in result.stdout  # nothing after the failed login ran


def test_the_local_quirks_are_as_the_readme_says(live: str) -> None:
    mistyped = requests.get(f"{live}/prodcuts", timeout=20)
    assert mistyped.status_code == 403
    assert mistyped.json() == {"message": "Missing Authentication Token"}
    denied = requests.get(f"{live}/users/me", headers={"Authorization": "Bearer nope"}, timeout=20)
    assert denied.status_code == 403
    assert denied.json() == {"Message": "User is not authorized to access this resource"}


def _run_python(block: str, live: str) -> subprocess.CompletedProcess[str]:
    source = block.replace('BASE = "http://127.0.0.1:8000"', f"BASE = {live!r}")
    assert source != block, "the python block no longer sets BASE as expected"
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(README.parent / "clients" / "python")}
    return subprocess.run(  # the README's own example, as a reader would run it
        [sys.executable, "-c", source], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_the_python_example_lists_the_orders(live: str) -> None:
    manage.seed(deps.get_table())
    result = _run_python(python_block(), live)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"  # alice has no order yet


def test_the_python_example_says_why_a_wrong_password_fails(live: str) -> None:
    manage.seed(deps.get_table())
    result = _run_python(python_block().replace("storefront-demo-123", "not-the-password"), live)
    assert result.returncode == 1
    assert "login failed: 401" in result.stderr
    assert "Traceback" not in result.stderr
