"""`make bench-restart` (also run by `make bench`): how long the embedded engine takes to come back.

For each size, a data directory is made as a `kill -9` leaves it: a snapshot holding N items of
the app's table (products, users and their e-mail claims, orders, sessions; the app's key
schema and indexes) and a journal of J order transactions written after it (each reserves a
product's stock and writes an order, with conditions, as `POST /orders` does). The engine is
started on it as `make run` starts it (`python -m tools.dynamodb_engine --data-dir`), and the
time from spawn to its first answer is the restart-to-ready time: imports, snapshot load,
journal replay and the compaction that follows a replayed journal. The restored state is then
checked (item count, one product's stock).

    python -m bench.engine_restart [--sizes 1000,10000,100000] [--journal 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.store.schema import create_table_params
from tools import processes
from tools.engine_journal import DataDir, Record

REGION = "us-east-1"
TABLE = "storefront"
TARGET_SECONDS_10K = 5.0
Item = dict[str, Any]


def _stamp(i: int) -> str:
    return f"2026-01-{1 + i % 28:02d}T00:00:{i % 60:02d}.000Z"


def _product(i: int) -> Item:
    pid = f"01P{i:023d}"
    return {
        "pk": {"S": f"PRODUCT#{pid}"},
        "sk": {"S": "PRODUCT"},
        "type": {"S": "product"},
        "id": {"S": pid},
        "owner_id": {"S": "01U00000000000000000000000"},
        "name": {"S": f"Product {i}"},
        "description": {"S": "A useful thing, well made. " * 3},
        "price": {"N": f"{1 + i % 97}.99"},
        "currency": {"S": "USD"},
        "stock": {"N": "1000000"},
        "version": {"N": "1"},
        "created_at": {"S": _stamp(i)},
        "updated_at": {"S": _stamp(i)},
        "gsi1pk": {"S": "PRODUCTS"},
        "gsi1sk": {"S": pid},
        "gsi2pk": {"S": "OWNER#01U00000000000000000000000"},
        "gsi2sk": {"S": pid},
    }


def _user(i: int) -> list[Item]:
    uid, email = f"01U{i:023d}", f"user{i}@example.com"
    user = {
        "pk": {"S": f"USER#{uid}"},
        "sk": {"S": "USER"},
        "type": {"S": "user"},
        "id": {"S": uid},
        "email": {"S": email},
        "name": {"S": f"User {i}"},
        "role": {"S": "user"},
        "password_hash": {"S": "$argon2id$v=19$m=19456,t=2,p=1$" + "x" * 64},
        "created_at": {"S": _stamp(i)},
        "updated_at": {"S": _stamp(i)},
        "gsi1pk": {"S": "USERS"},
        "gsi1sk": {"S": uid},
    }
    claim = {"pk": {"S": f"EMAIL#{email}"}, "sk": {"S": "EMAIL"}, "type": {"S": "email"}}
    claim["user_id"] = {"S": uid}
    return [user, claim]


def _order(i: int) -> Item:
    oid, uid = f"01O{i:023d}", f"01U{i % 997:023d}"
    line = {"M": {"product_id": {"S": f"01P{i:023d}"}, "name": {"S": "Mug"}, "unit_price": {"N": "19.99"}}}
    return {
        "pk": {"S": f"ORDER#{oid}"},
        "sk": {"S": "ORDER"},
        "type": {"S": "order"},
        "id": {"S": oid},
        "user_id": {"S": uid},
        "items": {"L": [{"M": {**line["M"], "quantity": {"N": "2"}}}]},
        "total": {"N": "39.98"},
        "currency": {"S": "USD"},
        "status": {"S": "placed"},
        "created_at": {"S": _stamp(i)},
        "gsi1pk": {"S": f"ORDERS#{uid}"},
        "gsi1sk": {"S": oid},
    }


def _session(i: int) -> Item:
    return {
        "pk": {"S": f"USER#01U{i % 997:023d}"},
        "sk": {"S": f"SESSION#01S{i:023d}"},
        "type": {"S": "session"},
        "role": {"S": "user"},
        "current_digest": {"S": "d" * 43},
        "created_at": {"N": "1767225600"},
        "expires_at": {"N": "1999999999"},
    }


def items(n: int) -> Iterator[Item]:
    """n items of the app's table, in its proportions: mostly products, then orders."""
    made, i = 0, 0
    while made < n:
        kind = i % 10
        one = _session(i) if kind == 0 else _order(i) if kind < 4 else _product(i)
        batch = _user(i) if kind == 1 else [one]
        for item in batch[: n - made]:
            yield item
            made += 1
        i += 1


def _products(n: int) -> list[int]:
    return [i for i in range(n // 2) if i % 10 >= 4][:50]


def order_transaction(j: int, product: int) -> dict[str, Any]:
    """What POST /orders journals: reserve stock (conditional Update), put the order (Put)."""
    pid = f"01P{product:023d}"
    order = _order(10_000_000 + j)
    reserve = {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": f"PRODUCT#{pid}"}, "sk": {"S": "PRODUCT"}},
            "UpdateExpression": "SET #s = #s - :q, #v = #v + :one",
            "ConditionExpression": "attribute_exists(pk) AND #s >= :q",
            "ExpressionAttributeNames": {"#s": "stock", "#v": "version"},
            "ExpressionAttributeValues": {":q": {"N": "2"}, ":one": {"N": "1"}},
        }
    }
    put = {"Put": {"TableName": TABLE, "Item": order, "ConditionExpression": "attribute_not_exists(pk)"}}
    return {"TransactItems": [reserve, put], "ClientRequestToken": f"bench-{j}"}


def make_data_dir(path: Path, n: int, journal: int) -> int:
    """A snapshot of n items and `journal` order transactions after it; the product they hit."""
    records = [Record(REGION, "CreateTable", json.dumps(create_table_params(TABLE)))]
    batch: list[dict[str, Any]] = []
    for item in items(n):
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            records.append(Record(REGION, "BatchWriteItem", json.dumps({"RequestItems": {TABLE: batch}})))
            batch = []
    if batch:
        records.append(Record(REGION, "BatchWriteItem", json.dumps({"RequestItems": {TABLE: batch}})))
    data = DataDir(path)
    data.write_snapshot(0, [], records)
    hot = _products(n)
    now = time.time()
    for j in range(journal):
        body = json.dumps(order_transaction(j, hot[j % len(hot)]))
        data.append(Record(REGION, "TransactWriteItems", body, seq=j + 1, ts=now))
    return hot[0]


def _ask(port: int, op: str, payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        data=json.dumps(payload).encode(),
        headers={
            "X-Amz-Target": f"DynamoDB_20120810.{op}",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=bench/20260101/{REGION}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 - loopback engine
        result: dict[str, Any] = json.loads(answer.read())
    return result


def _count(port: int) -> int:
    params: dict[str, Any] = {"TableName": TABLE, "Select": "COUNT"}
    total = 0
    while True:
        page = _ask(port, "Scan", params)
        total += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return total
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


_RESTORED = re.compile(r"in ([0-9.]+) s \(CPU ([0-9.]+) s\)")


def _restore_line(log: Path) -> str:
    """What the engine said about its restore ("restored ... in X s (CPU Y s)")."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if "restored" in line]
    return lines[-1] if lines else ""


@dataclass(frozen=True)
class Measured:
    """One size's restart."""

    items: int
    journal: int
    snapshot_mb: float
    ready_seconds: float
    restore_seconds: float  # the engine's own account: snapshot + journal + compaction
    restore_cpu_seconds: float


def measure(n: int, journal: int, root: Path) -> Measured:
    """Restart-to-ready of an engine on a fresh data directory of n items + `journal` lines."""
    path = root / f"data-{n}"
    hot = make_data_dir(path, n, journal)
    size = (path / "snapshot.jsonl").stat().st_size / 1e6
    port = processes.free_port()
    started = time.perf_counter()
    log = root / f"engine-{n}.log"
    proc = processes.start_engine(port, log=log, data_dir=path)
    ready = time.perf_counter() - started
    try:
        counted = _count(port)
        key = {"pk": {"S": f"PRODUCT#01P{hot:023d}"}, "sk": {"S": "PRODUCT"}}
        product = _ask(port, "GetItem", {"TableName": TABLE, "Key": key, "ConsistentRead": True})["Item"]
    finally:
        processes.stop(proc)
    hits = sum(1 for j in range(journal) if _products(n)[j % len(_products(n))] == hot)
    assert counted == n + journal, counted  # every item, every journaled order
    assert int(product["stock"]["N"]) == 1_000_000 - 2 * hits, product["stock"]
    said = _RESTORED.search(_restore_line(log))
    wall, cpu = (float(said.group(1)), float(said.group(2))) if said else (float("nan"), float("nan"))
    return Measured(n, journal, round(size, 1), round(ready, 2), wall, cpu)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table; exit 1 if restoring 10k items takes more CPU than the target."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=os.environ.get("SIZES", "1000,10000,100000"))
    parser.add_argument("--journal", type=int, default=int(os.environ.get("JOURNAL", "1000")))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"engine restart-to-ready ({platform.python_version()}, {os.cpu_count()} CPUs, load {load:.1f})")
    print("| items | journal lines | snapshot MB | restart-to-ready s | of which restore s (CPU s) |")
    print("|---:|---:|---:|---:|---:|")
    results: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="engine-restart-") as tmp:
        for n in sizes:
            result = measure(n, args.journal, Path(tmp))
            results.append(result)
            print(
                f"| {n:,} | {result.journal:,} | {result.snapshot_mb} | {result.ready_seconds} "
                f"| {result.restore_seconds} ({result.restore_cpu_seconds}) |",
                flush=True,
            )
    # Gate on the engine's CPU time: wall time on a shared machine measures its neighbours too.
    slow = [r for r in results if r.items == 10_000 and r.restore_cpu_seconds > TARGET_SECONDS_10K]
    for result in (r for r in results if r.items == 10_000):
        verdict = "over" if slow else "within"
        print(
            f"10k items: {result.ready_seconds} s wall, {result.restore_cpu_seconds} s CPU in the restore: "
            f"{verdict} the {TARGET_SECONDS_10K} s target (CPU; wall depends on the machine's load)"
        )
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
