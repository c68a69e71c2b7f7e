"""The deployed tier: the packaged dev stack on MiniStack, deployed once for this directory as
`make deploy-local` does, and driven through the emulated API Gateway.

At the end the stack is deleted, nothing of it may remain in the emulator, and the emulator
(its whole process group, function workers included) is stopped and its port freed.
Needs Python 3.13 and `make ministack-venv` (`make test` makes it); skipped otherwise.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from infra import deploy_local, emulator
from infra.build import Package
from infra.stage import Stage, load_stage


@dataclass(frozen=True)
class Stack:
    """The deployed stack: where its API is, and clients for the emulator behind it."""

    endpoint: str
    base_url: str
    stage: Stage
    deployed: deploy_local.Deployed

    def url(self, path: str) -> str:
        """The gateway URL of an API path ("/users")."""
        return self.base_url + path

    def aws(self, service: str) -> Any:
        """A boto3 client of the emulator."""
        return deploy_local.client(self.endpoint, service)


# Package scope: torn down (stack deleted, emulator stopped) as soon as this directory's
# tests are done, not at the end of the whole `make test` session.
@pytest.fixture(scope="package")
def stack(packages: dict[str, Package]) -> Iterator[Stack]:
    """The dev stack for tests/deployed/; deleted, checked gone, emulator stopped at the end."""
    try:
        emulator.python()
    except emulator.EmulatorError as exc:
        pytest.skip(f"the deployed tier needs the emulator: {exc}")
    stage = load_stage("dev")
    # Not under pytest's basetemp: a concurrent pytest run on the machine may prune that
    # while the emulator still keeps its functions' code there.
    state_dir = Path(tempfile.mkdtemp(prefix="storefront-ministack-"))
    running = emulator.start(state_dir=state_dir)
    try:
        password = secrets.token_urlsafe(18)
        deployed = deploy_local.deploy(running.endpoint, stage, packages["dev"].directory, password)
        yield Stack(running.endpoint, deployed.base_url, stage, deployed)
        deploy_local.delete(running.endpoint, stage)
        left = deploy_local.leftovers(running.endpoint)
    finally:
        emulator.stop(running)
        shutil.rmtree(state_dir, ignore_errors=True)
    assert left == {}, f"the deleted stack left {left}"
    assert not emulator.group_running(running.pid)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain HTTP session (no retries, no redirects followed)."""
    with requests.Session() as session:
        yield session
