"""The lean X-Ray parts (chalicelib/observability/xray_lean.py) change what tracing costs,
not what it sends: the same invocations, run once with them and once with the SDK's own
context, emitter and streaming put back (tests/xray_stock.py), send the same subsegments
to the daemon (a UDP socket), once ids, times and the table's name are set aside. The
lean run sends a request's subsegments nested in one document, the SDK's each on its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bench.run import create_owner
from bench.worker import OWNER, route_step
from chalicelib.api import deps
from chalicelib.config import get_settings
from chalicelib.security import keys
from chalicelib.store.cursor import CursorCodec
from chalicelib.store.table import Table, create_client
from manage import create_table
from tests.helpers import token_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Values that differ from run to run by design: ids, times, the engine's request ids.
RANDOM_KEYS = {"id", "parent_id", "trace_id", "start_time", "end_time", "request_id"}


def _steps(table: Table) -> list[dict[str, Any]]:
    """Every kind of traced work: routes (read, list, write in a transaction), errors, a
    5xx with its exception, the authorizer, an unsampled request between sampled ones."""
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    return [
        {"op": "http", "path": "/health", "principal": "user-42", "request_id": "req-1"},
        {"op": "http", **route_step("post", "-", OWNER), "request_id": "req-2"},
        {"op": "http", **route_step("list", "-", OWNER), "request_id": "req-3"},
        {"op": "http", **route_step("get", missing, OWNER), "request_id": "req-4"},
        {"op": "authorizer", "token": f"Bearer {token_for('user-7', table=table)}"},
        {"op": "authorizer", "token": "Bearer not-a-token"},
        {"op": "http", "path": "/ready", "request_id": "req-5", "sampled": False},
        {"op": "env", "set": {"TABLE_NAME": "no-such-table"}},
        {"op": "http", "path": "/ready", "request_id": "req-6"},
        {"op": "http", **route_step("get", missing, OWNER), "request_id": "req-7"},
        {"op": "env", "set": {"TABLE_NAME": table.name}},
        {"op": "http", **route_step("get", missing, OWNER), "request_id": "req-8"},
    ]


def _sent(module: str, table: Table) -> list[str]:
    """The datagrams the daemon receives when `module` runs the steps in a fresh process."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(0.5)
        env = {
            **os.environ,
            "TABLE_NAME": table.name,
            "AWS_XRAY_SDK_ENABLED": "true",
            "LAMBDA_TASK_ROOT": ROOT,
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        }
        args = [sys.executable, "-m", module, json.dumps(_steps(table))]
        done = subprocess.run(
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        datagrams = []
        while True:
            try:
                datagrams.append(daemon.recv(65536).decode())
            except TimeoutError:
                return [datagram.replace(table.name, "<table>") for datagram in datagrams]


def _normalised(value: Any, ids: dict[str, int]) -> Any:
    """The document with each random value replaced by the order of its first appearance
    (so which id is whose parent still has to match)."""
    if isinstance(value, dict):
        return {
            key: f"<{ids.setdefault(str(item), len(ids))}>" if key in RANDOM_KEYS else _normalised(item, ids)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_normalised(item, ids) for item in value]
    return value


@pytest.fixture
def tables(engine_endpoint: str) -> Iterator[list[Table]]:
    """Two fresh tables, one per run, with the user the product writes are made as."""
    deps.reset()  # settings as the engine's endpoint now says, not as an earlier test cached them
    settings = get_settings()
    made = []
    for _ in range(2):
        table = Table(create_client(settings), f"lean-{uuid.uuid4().hex[:8]}", CursorCodec(keys.cursor_keys))
        create_table(table)
        create_owner(table.client, table.name)
        made.append(table)
    yield made
    for table in made:
        table.client.delete_table(TableName=table.name)
    deps.reset()


def _subsegments(sent: list[str]) -> list[dict[str, Any]]:
    """Every subsegment sent, on its own or nested in its parent, without its children, in
    the order they started."""
    found: list[dict[str, Any]] = []

    def walk(document: dict[str, Any]) -> None:
        found.append({key: value for key, value in document.items() if key != "subsegments"})
        for child in document.get("subsegments", []):
            walk(child)

    for datagram in sent:
        walk(json.loads(datagram.partition("\n")[2]))
    return sorted(found, key=lambda document: (document["start_time"], document["name"]))


def test_the_lean_parts_send_what_the_sdks_own_parts_send(tables: list[Table]) -> None:
    lean = _sent("bench.lambda_sim", tables[0])
    stock = _sent("tests.xray_stock", tables[1])
    headers = {datagram.partition("\n")[0] for datagram in lean + stock}
    assert headers == {'{"format":"json","version":1}'}
    # One datagram per request: its DynamoDB calls travel nested in it
    assert len(lean) < len(stock)
    nested = [json.loads(d.partition("\n")[2]).get("subsegments", []) for d in lean]
    assert any(child["name"] == "dynamodb" for children in nested for child in children)
    documents = [_subsegments(run) for run in (lean, stock)]
    # Compared as text: the same keys in the same order, the same values.
    assert json.dumps(_normalised(documents[0], {})) == json.dumps(_normalised(documents[1], {}))
    # What was compared covers every kind of subsegment the steps make.
    names = {document["name"] for document in documents[0]}
    assert {"## request", "## authorizer", "dynamodb"} <= names
    operations = {document.get("aws", {}).get("operation") for document in documents[0]}
    assert {"GetItem", "Query", "TransactWriteItems"} <= operations
    assert any(document.get("fault") for document in documents[0])  # the 5xx, with its cause
