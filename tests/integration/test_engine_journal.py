"""The engine's journal and snapshot: no acknowledged write is lost, none is applied twice.

The first test runs a durable engine (``--data-dir``) in a subprocess and ``kill -9``s it
mid-traffic. The others drive the same ``Engine`` in this process (moto's WSGI app, no HTTP):
a "crash" is a new engine on the same files without the clean stop's compaction, which is
what a killed process leaves behind; a write cut short is written into the file by hand.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.store.schema import create_table_params
from tools import engine_load, processes
from tools.dynamodb_engine import Engine, moto_apps
from tools.engine_journal import DataDir, JournalCorrupt

TABLE = "durable"


class DurableEngine:
    """A journaled engine on a fixed port and data directory, restartable."""

    def __init__(self, data: Path) -> None:
        self.data = data
        data.mkdir()
        self.port = processes.free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Any:
        self.proc = processes.start_engine(self.port, log=self.data / "engine.log", data_dir=self.data)
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10)
        return boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{self.port}", config=config)

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            processes.stop(self.proc, timeout=60)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DurableEngine]:
    durable = DurableEngine(tmp_path / "data")
    yield durable
    durable.stop()


def _key(n: int) -> Any:
    return {"pk": {"S": f"K#{n}"}, "sk": {"S": "X"}}


def _order_items(n: int) -> list[Any]:
    """One 'order': take a unit from the shared stock and write the order, in one transaction."""
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key(0),
                "UpdateExpression": "ADD stock :minus",
                "ConditionExpression": "stock >= :one",
                "ExpressionAttributeValues": {":minus": {"N": "-1"}, ":one": {"N": "1"}},
            }
        },
        {"Put": {"TableName": TABLE, "Item": {**_key(1000 + n), "kind": {"S": "order"}}}},
    ]


def _sell(client: Any, n: int) -> bool:
    try:
        client.transact_write_items(TransactItems=_order_items(n))
    except (ClientError, BotoCoreError):
        return False
    return True


def _state(client: Any) -> tuple[int, set[str]]:
    stock = int(client.get_item(TableName=TABLE, Key=_key(0), ConsistentRead=True)["Item"]["stock"]["N"])
    orders: set[str] = set()
    params: dict[str, Any] = {"TableName": TABLE}
    while True:
        page = client.scan(**params)
        orders |= {item["pk"]["S"] for item in page["Items"] if "kind" in item}
        if "LastEvaluatedKey" not in page:
            return stock, orders
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _create(client: Any) -> None:
    client.create_table(**create_table_params(TABLE))
    spec = {"Enabled": True, "AttributeName": "expires_at"}
    client.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=spec)
    client.put_item(TableName=TABLE, Item={**_key(0), "stock": {"N": "1000"}})


def test_every_acknowledged_transaction_survives_kill_9_mid_traffic(engine: DurableEngine) -> None:
    # Given a durable engine taking concurrent transactions
    client = engine.start()
    _create(client)
    acknowledged: list[int] = []

    def sell(n: int) -> None:
        if n == 60:
            engine.kill9()  # When the engine is killed mid-traffic (some requests are in flight)
        if _sell(client, n):
            acknowledged.append(n)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(sell, range(120)))
    assert 40 <= len(acknowledged) < 120

    # Then after a restart every acknowledged order exists, and stock matches the orders exactly
    client = engine.start()
    stock, orders = _state(client)
    assert {f"K#{1000 + n}" for n in acknowledged} <= orders
    assert stock == 1000 - len(orders)


def _reset_moto() -> None:
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends.reset()


class Booted:
    """An in-process engine on a data directory; `crash()`/`stop()` then `boot()` again."""

    def __init__(self, app: Any, data: Path) -> None:
        self.app, self.data = app, data
        self.engine = self.boot()

    def boot(self) -> Engine:
        _reset_moto()  # the process "restarts": moto's memory is gone
        self.engine = Engine(self.app[0], DataDir(self.data), dynamodb_app=self.app[1])
        self.engine.restore()
        return self.engine

    def stop(self) -> None:
        with self.engine.lock:
            self.engine.compact()

    def call(self, op: str, payload: dict[str, Any]) -> tuple[int, Any]:
        reply = self.engine.handle("us-east-1", op, json.dumps(payload).encode())
        return int(reply.status.split()[0]), json.loads(reply.body or b"{}")

    def ok(self, op: str, payload: dict[str, Any]) -> Any:
        status, body = self.call(op, payload)
        assert status == 200, body
        return body

    def sell(self, n: int, token: str | None = None) -> int:
        payload: dict[str, Any] = {"TransactItems": _order_items(n)}
        if token:
            payload["ClientRequestToken"] = token
        return self.call("TransactWriteItems", payload)[0]

    def state(self) -> tuple[int, set[str]]:
        stock = self.ok("GetItem", {"TableName": TABLE, "Key": _key(0)})["Item"]["stock"]["N"]
        items = self.ok("Scan", {"TableName": TABLE})["Items"]
        return int(stock), {item["pk"]["S"] for item in items if "kind" in item}

    def journal(self) -> Path:
        return self.data / "journal.jsonl"


@pytest.fixture(scope="module")
def moto_app() -> Any:
    return moto_apps()


@pytest.fixture
def booted(moto_app: Any, tmp_path: Path) -> Iterator[Booted]:
    durable = Booted(moto_app, tmp_path / "data")
    durable.ok("CreateTable", create_table_params(TABLE))
    spec = {"Enabled": True, "AttributeName": "expires_at"}
    durable.ok("UpdateTimeToLive", {"TableName": TABLE, "TimeToLiveSpecification": spec})
    durable.ok("PutItem", {"TableName": TABLE, "Item": {**_key(0), "stock": {"N": "1000"}}})
    yield durable
    _reset_moto()


def test_a_crash_loses_no_acknowledged_write(booted: Booted) -> None:
    for n in range(10):
        assert booted.sell(n) == 200
    booted.boot()  # no compaction: the journal alone brings everything back
    assert booted.state() == (990, {f"K#{1000 + n}" for n in range(10)})


def test_a_clean_stop_compacts_into_a_snapshot_that_restores_everything(booted: Booted) -> None:
    for n in range(30):
        assert booted.sell(n) == 200
    booted.stop()  # what SIGTERM does: a snapshot under the lock, the journal emptied
    assert booted.journal().read_bytes() == b""
    header = json.loads((booted.data / "snapshot.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert header["seq"] == 33  # CreateTable, UpdateTimeToLive, PutItem, 30 transactions

    booted.boot()
    assert booted.state() == (970, {f"K#{1000 + n}" for n in range(30)})
    table = booted.ok("DescribeTable", {"TableName": TABLE})["Table"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2", "gsi3"]
    ttl = booted.ok("DescribeTimeToLive", {"TableName": TABLE})["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    booted.sell(30)
    assert booted.journal().read_text(encoding="utf-8").count("\n") == 1  # appends resume after it


def test_journal_lines_already_in_the_snapshot_are_not_applied_twice(booted: Booted) -> None:
    # Given a journal saved before a clean stop (as if the process died after the snapshot's
    # rename and before the journal was emptied)
    for n in range(5):
        assert booted.sell(n) == 200
    saved = booted.journal().read_bytes()
    booted.stop()
    booted.journal().write_bytes(saved)
    # When the engine starts again
    booted.boot()
    # Then the snapshot's state stands, with no line of the old journal replayed on top
    assert booted.state() == (995, {f"K#{1000 + n}" for n in range(5)})


def test_a_torn_last_journal_line_is_cut_off_and_the_rest_restored(booted: Booted) -> None:
    assert booted.sell(1) == 200
    with booted.journal().open("ab") as out:  # a write cut short by a kill: never acknowledged
        out.write(b'{"seq":99,"ts":1.0,"r":"us-east-1","t":"PutI')
    booted.boot()
    assert booted.state() == (999, {"K#1001"})
    assert b"PutI" not in booted.journal().read_bytes()  # cut before any new append
    assert booted.sell(2) == 200
    booted.boot()
    assert booted.state() == (998, {"K#1001", "K#1002"})


def test_a_refused_conditional_write_is_not_journaled(booted: Booted) -> None:
    before = booted.journal().read_bytes()
    status, body = booted.call(
        "PutItem", {"TableName": TABLE, "Item": _key(0), "ConditionExpression": "attribute_not_exists(pk)"}
    )
    assert status == 400
    assert body["__type"].endswith("ConditionalCheckFailedException")
    booted.call("GetItem", {"TableName": TABLE, "Key": _key(0)})
    assert booted.journal().read_bytes() == before


def test_a_damaged_line_inside_the_journal_stops_the_start(booted: Booted) -> None:
    lines = booted.journal().read_bytes().split(b"\n")
    lines[1] = b"{not json"
    booted.journal().write_bytes(b"\n".join(lines))
    with pytest.raises(JournalCorrupt, match="line 2"):
        booted.boot()


def test_a_retried_token_is_still_recognised_after_a_crash(booted: Booted) -> None:
    assert booted.sell(1, token="order-1") == 200
    booted.boot()
    assert booted.sell(1, token="order-1") == 200  # the retry: answered, not applied
    assert booted.state() == (999, {"K#1001"})
    booted.stop()
    booted.boot()  # the token also survives compaction
    assert booted.sell(1, token="order-1") == 200
    assert booted.state() == (999, {"K#1001"})


# --- restart time (field defects round two, item 2) ------------------------------------------


def test_every_attribute_type_survives_a_crash_and_a_compaction(booted: Booted) -> None:
    # Given an item of every DynamoDB type (the restore writes items into moto's backend itself)
    item = {
        **_key(7),
        "s": {"S": "text ünïcode"},
        "n": {"N": "-12.50"},
        "b": {"B": "AAEC"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": ["AAE=", "AgM="]},
        "yes": {"BOOL": True},
        "none": {"NULL": True},
        "list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"L": [{"BOOL": False}]}}}]},
        "map": {"M": {"a": {"S": "1"}, "b": {"NS": ["3"]}}},
    }
    booted.ok("PutItem", {"TableName": TABLE, "Item": item})
    before = booted.ok("GetItem", {"TableName": TABLE, "Key": _key(7)})["Item"]
    # When the engine crashes (journal replay), then stops cleanly (snapshot) and starts again
    booted.boot()
    after_crash = booted.ok("GetItem", {"TableName": TABLE, "Key": _key(7)})["Item"]
    booted.stop()
    booted.boot()
    # Then the item reads back exactly as it was written, both times
    assert after_crash == before
    assert booted.ok("GetItem", {"TableName": TABLE, "Key": _key(7)})["Item"] == before
    assert booted.state() == (1000, set())
    # And the indexes still find what the restore loaded straight into the table
    booted.ok(
        "PutItem", {"TableName": TABLE, "Item": {**_key(8), "gsi1pk": {"S": "P"}, "gsi1sk": {"S": "1"}}}
    )
    booted.stop()
    booted.boot()
    found = booted.ok(
        "Query",
        {
            "TableName": TABLE,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "P"}},
        },
    )
    assert [row["pk"]["S"] for row in found["Items"]] == ["K#8"]


def _stream_keys() -> list[str]:
    backend = engine_load.backend_of("us-east-1", TABLE)
    assert backend is not None
    shard = backend.tables[TABLE].stream_shard
    assert shard is not None  # the app's table has a stream (the event outbox's)
    return [record.record["dynamodb"]["Keys"]["pk"]["S"] for record in shard.items]


def test_a_restart_streams_the_outbox_items_again_and_loads_the_rest_directly(booted: Booted) -> None:
    # Given an outbox item (an event maybe not yet published when the engine died) and another
    # item, both in the snapshot
    event = {"pk": {"S": "OUTBOX#products/P1"}, "sk": {"S": "EVENT"}, "type": {"S": "event"}}
    booted.ok("PutItem", {"TableName": TABLE, "Item": event})
    booted.ok("PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "PRODUCT#P1"}, "sk": {"S": "PRODUCT"}}})
    booted.stop()
    # When the engine starts again
    booted.boot()
    # Then the outbox item has a stream record again (the local publisher skips the ids it
    # has written), and no other item does: they were set straight into the table
    assert _stream_keys() == ["OUTBOX#products/P1"]
    product = {"pk": {"S": "PRODUCT#P1"}, "sk": {"S": "PRODUCT"}}
    assert booted.ok("GetItem", {"TableName": TABLE, "Key": product})["Item"] == product


def test_a_restart_costs_time_in_proportion_to_the_data(moto_app: Any, tmp_path: Path) -> None:
    # Given what a kill -9 leaves: a snapshot of 5,000 items and 300 order transactions after it
    from bench.engine_restart import TABLE as BENCH_TABLE
    from bench.engine_restart import make_data_dir

    _reset_moto()
    hot = make_data_dir(tmp_path / "data", 5_000, 300)
    engine = Engine(moto_app[0], DataDir(tmp_path / "data"), dynamodb_app=moto_app[1])
    # When it restarts
    started = time.process_time()
    said = engine.restore()
    spent = time.process_time() - started
    try:
        # Then everything is back: every item, every journaled order, the stock they took
        key = {"pk": {"S": f"PRODUCT#01P{hot:023d}"}, "sk": {"S": "PRODUCT"}}
        product = json.loads(
            engine.handle(
                "us-east-1", "GetItem", json.dumps({"TableName": BENCH_TABLE, "Key": key}).encode()
            ).body
        )
        assert int(product["Item"]["stock"]["N"]) == 1_000_000 - 2 * 6  # 300 orders over 50 products
        assert "300 from the journal" in said
        assert "did not apply" not in said
        rows = engine_load.table_items("us-east-1", BENCH_TABLE)
        assert rows is not None
        assert sum(1 for _ in rows) == 5_300
        # ...within CPU seconds, not minutes: replayed as HTTP requests, the snapshot alone cost
        # ~2 ms per item and every transaction deep-copied the whole table (65-92 s for 1.35 MB)
        assert spent < 8, said
    finally:
        _reset_moto()
