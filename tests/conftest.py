"""Shared fixtures: one embedded DynamoDB engine per session, a fresh table per test.

The environment is fixed here, before the app is imported, because chalice's test
client applies stage variables only during a request and settings are cached.
"""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests talk to a real engine: no per-example deadline, a bounded example count.
settings.register_profile(
    "storefront", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# CI explores a fixed sequence of examples (reproducible); developers' runs explore new ones.
settings.register_profile("storefront-ci", parent=settings.get_profile("storefront"), derandomize=True)
settings.load_profile("storefront-ci" if os.environ.get("CI") else "storefront")

TEST_JWT_SECRET = "test-jwt-secret-for-the-storefront-suite-0123456789"
TEST_PAYMENT_WEBHOOK_SECRET = "whsec_dGVzdC1wYXltZW50LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODk="

os.environ.update(
    {
        "STAGE": "test",
        "AWS_XRAY_SDK_ENABLED": "false",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "JWT_SECRET": TEST_JWT_SECRET,
        "PAYMENT_WEBHOOK_SECRET": TEST_PAYMENT_WEBHOOK_SECRET,
        "ORDER_SWEEP_SECONDS": "0",  # no background sweep: tests run the sweep themselves
        "METRICS_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        # Account mails (.eml files) of this run, out of the working tree (tests/mailbox.py).
        "MAIL_DIR": tempfile.mkdtemp(prefix="storefront-mail-"),
    }
)
for _name in (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "JWT_SECRET_PARAM",
    "JWT_PREVIOUS_SECRETS",
    "PAYMENT_WEBHOOK_SECRET_PARAM",
):
    os.environ.pop(_name, None)

from chalice.test import Client  # noqa: E402

from app import app  # noqa: E402
from chalicelib.api import deps  # noqa: E402
from chalicelib.store.table import Table  # noqa: E402
from infra.build import Package  # noqa: E402
from manage import create_table, scan_all  # noqa: E402
from tools import processes  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Every log line (and EMF document) the app writes during the test."""
    from chalicelib import observability

    stream = io.StringIO()
    observability.install(observability.Observer(service="storefront", sink=observability.Sink(stream)))
    yield stream
    observability.install(None)


@pytest.fixture(scope="session")
def engine_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded engine (moto server, serialised) on a free loopback port."""
    port = processes.free_port()
    log = tmp_path_factory.mktemp("engine") / "engine.log"
    proc = processes.start_engine(port, log=log)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["DYNAMODB_ENDPOINT"] = endpoint
    yield endpoint
    processes.stop(proc)


def _new_table(name: str) -> Table:
    os.environ["TABLE_NAME"] = name
    deps.reset()
    table = deps.get_table()
    create_table(table)
    return table


@pytest.fixture
def table(engine_endpoint: str) -> Iterator[Table]:
    """A fresh, empty table for this test, and the app pointed at it."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    table = _new_table(name)
    yield table
    table.client.delete_table(TableName=name)
    deps.reset()


@pytest.fixture
def client(table: Table) -> Iterator[Client]:
    """chalice's test client (local gateway semantics: a denied token is a 403)."""
    with Client(app, stage_name="test") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_table(engine_endpoint: str) -> str:
    """The table the live server uses (one per session: the server reads it at start)."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    _new_table(name)
    return name


@pytest.fixture(scope="session")
def live_server(
    engine_endpoint: str, live_table: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`chalice local --stage test` in a subprocess; yields its base URL."""
    port = processes.free_port()
    log = tmp_path_factory.mktemp("chalice") / "chalice.log"
    env = {"TABLE_NAME": live_table, "DYNAMODB_ENDPOINT": engine_endpoint}
    proc = processes.start_chalice_local(port, env=env, stage="test", log=log)
    yield f"http://127.0.0.1:{port}"
    processes.stop(proc)


@pytest.fixture
def live(live_server: str, live_table: str) -> str:
    """The live server's URL, with its table emptied first (tests run in any order)."""
    os.environ["TABLE_NAME"] = live_table
    deps.reset()
    table = deps.get_table()
    for item in scan_all(table):
        key = {"pk": item["pk"], "sk": item["sk"]}
        table.client.delete_item(TableName=live_table, Key=key)
    return live_server


# Both deployed stages packaged once per session (Python 3.13), shared by tests/deploy/ (the
# package and template checks) and tests/deployed/ (the stack on the emulator).
@pytest.fixture(scope="session")
def python313() -> str:
    """The 3.13 interpreter (skips the deployment tests when there is none)."""
    from infra import lambda_runtime

    try:
        return lambda_runtime.find_python()
    except lambda_runtime.RuntimeUnavailable as exc:
        pytest.skip(f"deployment package tests need Python 3.13: {exc}")


@pytest.fixture(scope="session")
def packages(python313: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Package]:
    """Both stages packaged once per session, as `make package` does (wheels cached by chalice)."""
    from infra import build
    from infra.stage import DEPLOYED_STAGES, load_stage

    out = tmp_path_factory.mktemp("package")
    return {name: build.package(load_stage(name), out / name) for name in DEPLOYED_STAGES}
