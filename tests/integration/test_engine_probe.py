"""The readiness probe is never stuck behind the engine's lock.

moto's TransactWriteItems deep-copied the whole table for each action, so a burst of
transactions on a table of a few thousand items kept the engine's lock busy for seconds.
`/ready`'s DescribeTable (1 attempt, 0.5 s connect, 1 s read timeout) used to queue behind
them and time out; the engine now answers DescribeTable from a copy kept under the lock
(and a transaction's backup no longer copies the whole table: docs/local.md). The writers
keep writing until the probe has answered during the burst a number of times.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.api.deps import get_probe_table
from chalicelib.services.health import check_dynamodb
from chalicelib.store.table import Table

ITEMS = 2_500
WRITERS = 20
MAX_PER_WRITER = 200


def _fill(table: Table) -> None:
    for start in range(0, ITEMS, 25):
        puts: Any = [
            {"PutRequest": {"Item": {"pk": {"S": f"ITEM#{n}"}, "sk": {"S": "X"}, "n": {"N": "0"}}}}
            for n in range(start, min(start + 25, ITEMS))
        ]
        table.client.batch_write_item(RequestItems={table.name: puts})


def _transaction(table: Table, n: int) -> None:
    update: Any = {
        "Update": {
            "TableName": table.name,
            "Key": {"pk": {"S": f"ITEM#{n}"}, "sk": {"S": "X"}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    table.client.transact_write_items(TransactItems=[update])


def _write_until(table: Table, n: int, enough: threading.Event) -> int:
    """Transactions on ITEM#n until `enough` is set (at least one, at most MAX_PER_WRITER)."""
    made = 0
    while made < MAX_PER_WRITER and not (made and enough.is_set()):
        _transaction(table, n)
        made += 1
    return made


def test_ready_probe_answers_during_a_transaction_burst(table: Table) -> None:
    # Given a table of a few thousand items, so that each transaction holds the lock a while
    _fill(table)
    probe = get_probe_table()
    assert check_dynamodb(probe) == "ok"
    results: list[str] = []
    done, enough = threading.Event(), threading.Event()

    def poll() -> None:
        while not done.is_set():
            results.append(check_dynamodb(probe))
            if len(results) >= WRITERS:
                enough.set()

    # When 20 writers run transactions at once while the probe polls with the API's timeouts
    poller = threading.Thread(target=poll)
    poller.start()
    try:
        with ThreadPoolExecutor(WRITERS) as pool:
            made = list(pool.map(lambda n: _write_until(table, n, enough), range(WRITERS)))
    finally:
        done.set()
        poller.join()

    # Then every poll answered "ok": none timed out behind the writes
    assert set(results) == {"ok"}
    assert len(results) >= WRITERS
    # and the writes all happened (the burst really ran)
    for n in (0, 7, WRITERS - 1):
        got = table.client.get_item(TableName=table.name, Key={"pk": {"S": f"ITEM#{n}"}, "sk": {"S": "X"}})
        assert got["Item"]["n"] == {"N": str(made[n])}
