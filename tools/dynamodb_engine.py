"""The embedded DynamoDB-compatible engine for `make run` and the tests: moto's server.

moto's own server handles requests on threads without a lock around the DynamoDB
backend, so two conditional writes racing on one item could both "succeed" — which real
DynamoDB never allows. This wrapper runs each request under one lock: requests are
atomic and serialised, as DynamoDB's item-level writes and transactions are. That is
what makes the race tests (one e-mail, twenty registrations) meaningful here.

Three more things real DynamoDB does that moto does not, added here because every
request passes through this one place (and three repairs of moto: its DynamoDB objects are
no longer kept forever by its instance tracker, which made memory grow with the square of
the transactions made; a transaction's rollback backup copies deeply only the partitions it
names, not the whole table and every stream record; a refused one no longer leaves readers
on a stale shard; see _forget_dynamodb_instances, _cheap_transaction_backups and
_rollback_keeps_the_shard):

- Durability (``--data-dir``): every accepted (2xx) mutating request is appended to a
  journal and fsynced *before* its response leaves, under the same lock; the start replays
  snapshot + journal; a clean stop (SIGTERM/SIGINT) compacts the state into a snapshot taken
  under the lock, so no snapshot holds half a transaction. See tools/engine_journal.py.
- ``ClientRequestToken``: a TransactWriteItems retried with the token of one that succeeded
  in the last 10 minutes is answered with the first response and not applied again; the same
  token with another body is ``IdempotentParameterMismatchException`` (400).
- DescribeTable never waits behind writes: its answer is cached per table, refilled under the
  lock, and dropped under the lock by any request that changes table metadata; item writes
  leave it alone, so ``ItemCount``/``TableSizeBytes`` may lag (real DynamoDB refreshes those
  about every six hours too).

    python -m tools.dynamodb_engine --host 127.0.0.1 --port 8001 [--data-dir .local]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tools import engine_load
from tools.engine_journal import DataDir, JournalCorrupt, Record

WsgiApp = Callable[..., Iterable[bytes]]
PREFIX = "DynamoDB_20120810."
STREAMS_PREFIX = "DynamoDBStreams_20120810."
TOKEN_WINDOW_SECONDS = 600.0
# Journal lines between snapshots: what a restart after kill -9 replays at most. A journaled
# write costs ~2 ms of moto's work to replay; a snapshot of 10k items ~0.2 s CPU to write
# (tools/engine_load.py reads the items straight from the backend).
COMPACT_EVERY = 1_000
# Operations that never change state; anything else (even an operation this list does not
# know) is journaled, which is always safe: replaying it rebuilds what it did.
READ_ONLY = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "ListTables",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "DescribeBackup",
        "DescribeGlobalTable",
        "DescribeGlobalTableSettings",
        "DescribeTableReplicaAutoScaling",
        "DescribeKinesisStreamingDestination",
        "DescribeContributorInsights",
        "DescribeExport",
        "DescribeImport",
        "ListBackups",
        "ListExports",
        "ListImports",
        "ListGlobalTables",
        "ListTagsOfResource",
        "ListContributorInsights",
        "GetResourcePolicy",
    }
)
# Writes of items: they never change what DescribeTable answers (except the lagging counts).
ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_UA_REGION = re.compile(r"region/(?P<region>[a-z]{2}-[a-z]+-\d{1})")
_URL_REGION = re.compile(r"\.(?P<region>[^.]+)\.amazonaws\.com")


def request_region(environ: dict[str, Any]) -> str:
    """The region moto will use for this request (same order as moto's BaseResponse)."""
    host = environ.get("HTTP_HOST", "")
    for pattern, text in ((_URL_REGION, host), (_UA_REGION, environ.get("HTTP_USER_AGENT", ""))):
        match = pattern.search(text)
        if match:
            return str(match.group("region"))
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    if "AWS4" in auth:
        try:
            return auth.split(",")[0].split("/")[2]
        except IndexError:
            pass
    return "us-east-1"


class Reply:
    """A whole HTTP answer, materialised inside the lock."""

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status[:1] == "2"

    @classmethod
    def json(cls, code: int, payload: bytes) -> Reply:
        """A JSON answer with this status and body."""
        headers = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-RequestId", uuid.uuid4().hex),
            ("x-amz-crc32", str(zlib.crc32(payload))),
            ("Content-Length", str(len(payload))),
        ]
        return cls(f"{code} {'OK' if code == 200 else 'Bad Request'}", headers, payload)


class TokenCache:
    """ClientRequestToken → the first answer, for TransactWriteItems that succeeded (10 minutes)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.entries: OrderedDict[tuple[str, str], tuple[float, str, bytes]] = OrderedDict()

    def lookup(self, region: str, token: str, digest: str) -> Reply | None:
        """The first answer to this token (None if unknown or expired); a mismatch answer for another body."""
        self._expire()
        entry = self.entries.get((region, token))
        if entry is None:
            return None
        if entry[1] != digest:
            payload = {
                "__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                "message": "ClientRequestToken was used with different request parameters",
            }
            return Reply.json(400, json.dumps(payload).encode())
        return Reply.json(200, entry[2])

    def remember(self, region: str, token: str, digest: str, body: bytes, ts: float) -> None:
        """Keep a successful transaction's answer under its token for ten minutes."""
        self.entries[(region, token)] = (ts, digest, body)
        self._expire()

    def _expire(self) -> None:
        horizon = self.clock() - TOKEN_WINDOW_SECONDS
        while self.entries:
            key, (ts, _, _) = next(iter(self.entries.items()))
            if ts >= horizon:
                return
            del self.entries[key]

    def export(self) -> list[dict[str, Any]]:
        """The live tokens, for the snapshot."""
        self._expire()
        return [
            {"r": r, "k": k, "ts": ts, "d": d, "b": b.decode("utf-8")}
            for (r, k), (ts, d, b) in self.entries.items()
        ]

    def load(self, rows: list[dict[str, Any]]) -> None:
        """Take back the tokens a snapshot kept."""
        for row in rows:
            self.remember(row["r"], row["k"], row["d"], row["b"].encode("utf-8"), float(row["ts"]))


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class Engine:
    """The WSGI app: moto under one lock, plus journal, idempotency tokens and metadata cache."""

    def __init__(
        self,
        app: WsgiApp,
        data: DataDir | None = None,
        clock: Callable[[], float] = time.time,
        compact_every: int = COMPACT_EVERY,
        dynamodb_app: WsgiApp | None = None,
    ) -> None:
        self.app = app
        # moto's dispatcher works out the service of every request again (a scan of its module
        # folders: ~2 ms); DynamoDB requests go straight to its DynamoDB app when we have it.
        self.dynamodb_app = dynamodb_app or app
        self.data = data
        self.clock = clock
        self.compact_every = compact_every
        self.lock = threading.Lock()
        self.tokens = TokenCache(clock)
        self.described: dict[tuple[str, str], bytes] = {}
        self.regions: set[str] = set()
        self.seq = 0
        self.journal_lines = 0

    # -- serving ---------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """Serve one WSGI request under the lock (journaled when it wrote something)."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(PREFIX):
            # DynamoDB Streams calls only read (the event publisher's GetRecords): served.
            reads = target.startswith(STREAMS_PREFIX) or environ.get("REQUEST_METHOD") in {"GET", "HEAD"}
            if self.data is not None and not reads:
                # moto's reset/seed endpoints would change state behind the journal's back.
                reply = Reply("405 Method Not Allowed", [("Content-Length", "0")], b"")
            else:
                with self.lock:
                    reply = self._call(environ, self.app)
            start_response(reply.status, reply.headers)
            return [reply.body]
        raw = _read_body(environ)  # outside the lock
        reply = self.handle(request_region(environ), target[len(PREFIX) :], raw, environ)
        start_response(reply.status, reply.headers)
        return [reply.body]

    def handle(self, region: str, op: str, raw: bytes, environ: dict[str, Any] | None = None) -> Reply:
        """Answer one DynamoDB request (``environ`` carries the original headers, if any)."""
        body = _parse(raw) if op == "DescribeTable" or op not in READ_ONLY else None
        if op == "DescribeTable" and body is not None:
            cached = self.described.get((region, str(body.get("TableName"))))
            if cached is not None:  # a read of a dict: no lock, never behind a write
                return Reply.json(200, cached)
        token = body.get("ClientRequestToken") if op == "TransactWriteItems" and body else None
        with self.lock:
            if isinstance(token, str):
                replayed = self.tokens.lookup(region, token, _digest(body or {}))
                if replayed is not None:
                    return replayed
            reply = self._call(_environ(region, op, raw, environ))
            if reply.ok:
                self._accepted(region, op, raw, body, reply, self.clock())
        return reply

    def _accepted(
        self, region: str, op: str, raw: bytes, body: dict[str, Any] | None, reply: Reply, ts: float
    ) -> None:
        """Bookkeeping for a 2xx answer, under the lock: journal first, then caches."""
        if op == "DescribeTable" and body is not None:
            self.described[(region, str(body.get("TableName")))] = reply.body
            return
        if op in READ_ONLY:
            return
        if self.data is not None:
            self.seq += 1
            try:
                self.data.append(Record(region, op, raw.decode("utf-8"), self.seq, ts))
            except OSError as exc:
                # moto has applied a change the disk does not hold: serving on would answer
                # from state a restart loses. Die; the supervisor restarts from the journal.
                print(f"engine: journal write failed ({exc}); stopping", file=sys.stderr, flush=True)
                os._exit(70)
            self.journal_lines += 1
        self._note(region, op, body, reply.body, ts)
        if self.data is not None and self.journal_lines >= self.compact_every:
            self.compact()

    def _note(self, region: str, op: str, body: dict[str, Any] | None, answer: bytes, ts: float) -> None:
        self.regions.add(region)
        if op not in ITEM_WRITES:
            self.described.clear()  # table metadata changed: refill what this request names
            name = (body or {}).get("TableName")
            if isinstance(name, str):
                payload = json.dumps({"TableName": name}).encode()
                described = self._call(_environ(region, "DescribeTable", payload))
                if described.ok:
                    self.described[(region, name)] = described.body
        token = (body or {}).get("ClientRequestToken")
        if op == "TransactWriteItems" and isinstance(token, str):
            self.tokens.remember(region, token, _digest(body or {}), answer, ts)

    def _call(self, environ: dict[str, Any], app: WsgiApp | None = None) -> Reply:
        captured: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured[:] = [status, headers]

        body = b"".join((app or self.dynamodb_app)(environ, start_response))  # the work happens here
        return Reply(captured[0], list(captured[1]), body)

    # -- start and stop --------------------------------------------------------------------
    def restore(self) -> str:
        """Replay snapshot + journal (before serving); compact if the journal had lines."""
        assert self.data is not None
        started, cpu = time.perf_counter(), time.process_time()
        stored = self.data.read()
        self.tokens.load(stored.tokens)
        with self.lock:
            failed = 0
            for record in stored.records:
                body = _parse(record.body.encode("utf-8"))
                try:
                    reply = self._replay(record, body)
                except Exception as exc:  # moto raising on a request it accepted once: say so, go on
                    reply = Reply("500 Internal Server Error", [], repr(exc).encode())
                if not reply.ok:
                    failed += 1
                    detail = reply.body[:200]
                    print(f"engine: replay of {record.target} #{record.seq} failed: {detail!r}", flush=True)
                    continue
                self._note(record.region, record.target, body, reply.body, record.ts)
            self.seq = stored.seq
            if stored.journal_lines or stored.torn:
                self.compact()
        torn = "; a torn last line (never acknowledged) was cut off" if stored.torn else ""
        problems = f"; {failed} did not apply again (see above)" if failed else ""
        count = f"{len(stored.records)} requests ({stored.journal_lines} from the journal)"
        took = f"in {time.perf_counter() - started:.2f} s (CPU {time.process_time() - cpu:.2f} s)"
        return f"restored {count} {took}{torn}{problems}"

    def _replay(self, record: Record, body: dict[str, Any] | None) -> Reply:
        """Apply one stored request: item writes straight into moto's backend (tools/engine_load.py,
        time proportional to the data), anything else as the request it was."""
        apply = _DIRECT.get(record.target)
        if body is not None and apply is not None:
            if apply(record.region, body):
                return Reply.json(200, engine_load.TRANSACTION_ANSWER)
            # What is left (all of it, or a batch's outbox items) goes through the front door.
            return self._call(_environ(record.region, record.target, json.dumps(body).encode("utf-8")))
        return self._call(_environ(record.region, record.target, record.body.encode("utf-8")))

    def compact(self) -> None:
        """Write the whole state as a snapshot and empty the journal; the caller holds the lock."""
        assert self.data is not None
        records: list[Record] = []
        for region in sorted(self.regions):
            for table in self._tables(region):
                records.extend(self._table_records(region, table))
        self.data.write_snapshot(self.seq, self.tokens.export(), records)
        self.journal_lines = 0

    def _ask(self, region: str, op: str, payload: dict[str, Any]) -> dict[str, Any]:
        reply = self._call(_environ(region, op, json.dumps(payload).encode()))
        if not reply.ok:
            raise RuntimeError(f"{op} failed while snapshotting: {reply.body[:300]!r}")
        answer: dict[str, Any] = json.loads(reply.body or b"{}")
        return answer

    def _tables(self, region: str) -> list[str]:
        names: list[str] = []
        params: dict[str, Any] = {}
        while True:
            page = self._ask(region, "ListTables", params)
            names.extend(page.get("TableNames", []))
            if "LastEvaluatedTableName" not in page:
                return names
            params = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}

    def _table_records(self, region: str, name: str) -> list[Record]:
        described = self._ask(region, "DescribeTable", {"TableName": name})["Table"]
        out = [Record(region, "CreateTable", json.dumps(create_params(described)))]
        ttl = self._ask(region, "DescribeTimeToLive", {"TableName": name})["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
            spec = {"Enabled": True, "AttributeName": ttl["AttributeName"]}
            payload = {"TableName": name, "TimeToLiveSpecification": spec}
            out.append(Record(region, "UpdateTimeToLive", json.dumps(payload)))
        tags = self._ask(region, "ListTagsOfResource", {"ResourceArn": described["TableArn"]}).get("Tags")
        if tags:
            payload = {"ResourceArn": described["TableArn"], "Tags": tags}
            out.append(Record(region, "TagResource", json.dumps(payload)))
        rows = engine_load.table_items(region, name)  # under the caller's lock: one consistent state
        if rows is not None:
            batch: list[dict[str, Any]] = []
            for item in rows:
                batch.append({"PutRequest": {"Item": item}})
                if len(batch) == 25:
                    out.append(Record(region, "BatchWriteItem", json.dumps({"RequestItems": {name: batch}})))
                    batch = []
            if batch:
                out.append(Record(region, "BatchWriteItem", json.dumps({"RequestItems": {name: batch}})))
            return out
        params: dict[str, Any] = {"TableName": name}
        while True:  # every page under the caller's lock: one consistent state
            page = self._ask(region, "Scan", params)
            items = page.get("Items", [])
            for start in range(0, len(items), 25):
                puts = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                out.append(Record(region, "BatchWriteItem", json.dumps({"RequestItems": {name: puts}})))
            if "LastEvaluatedKey" not in page:
                return out
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# Stored requests applied straight to moto's backend on restore (False: replay the request).
_DIRECT: dict[str, Callable[[str, dict[str, Any]], bool]] = {
    "BatchWriteItem": engine_load.load_puts,
    "TransactWriteItems": engine_load.apply_transaction,
}


def create_params(table: dict[str, Any]) -> dict[str, Any]:
    """CreateTable parameters that rebuild a table from its DescribeTable answer."""
    billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    provisioned = billing == "PROVISIONED"

    def throughput(source: dict[str, Any]) -> dict[str, Any]:
        pt = source.get("ProvisionedThroughput", {})
        return {
            "ReadCapacityUnits": max(1, pt.get("ReadCapacityUnits", 1)),
            "WriteCapacityUnits": max(1, pt.get("WriteCapacityUnits", 1)),
        }

    params: dict[str, Any] = {
        "TableName": table["TableName"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "KeySchema": table["KeySchema"],
        "BillingMode": billing,
    }
    if provisioned:
        params["ProvisionedThroughput"] = throughput(table)
    gsis = [
        {k: g[k] for k in ("IndexName", "KeySchema", "Projection")}
        | ({"ProvisionedThroughput": throughput(g)} if provisioned else {})
        for g in table.get("GlobalSecondaryIndexes") or []
    ]
    lsis = [
        {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
        for index in table.get("LocalSecondaryIndexes") or []
    ]
    if gsis:
        params["GlobalSecondaryIndexes"] = gsis
    if lsis:
        params["LocalSecondaryIndexes"] = lsis
    stream = table.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        params["StreamSpecification"] = stream
    return params


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("CONTENT_LENGTH"):
        data: bytes = stream.read(int(environ["CONTENT_LENGTH"]))
        return data
    return stream.read() if environ.get("wsgi.input_terminated") else b""


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _environ(region: str, op: str, raw: bytes, original: dict[str, Any] | None = None) -> dict[str, Any]:
    """A WSGI environ for one DynamoDB call: the original request's, or a fresh one for `region`."""
    if original is not None:
        environ = dict(original)
    else:
        auth = (
            f"AWS4-HMAC-SHA256 Credential=ENGINE/20260101/{region}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
        environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": "/",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": auth,
            "HTTP_X_AMZ_TARGET": PREFIX + op,
            "CONTENT_TYPE": "application/x-amz-json-1.0",
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
    environ["wsgi.input"] = io.BytesIO(raw)
    environ["CONTENT_LENGTH"] = str(len(raw))
    return environ


class _NotKept(list[Any]):
    """An instance list that keeps nothing (see _forget_dynamodb_instances)."""

    def append(self, instance: Any) -> None:
        """Forget the instance."""


def _forget_dynamodb_instances() -> None:
    """moto keeps every instance of every model it ever made (for its dashboard's
    /moto-api/data.json). A TransactWriteItems deep-copies the whole table as its rollback
    backup, so each transaction left a copy of every item alive: 600 transactions on a small
    table held 900 MB, and `make run` grew without bound. DynamoDB's models (tables, items,
    stream records) are no longer tracked; the dashboard still lists the other services'
    (the tests read SES's sent mail there)."""
    import moto.dynamodb.models  # noqa: F401 - registers DynamoDB's model classes
    from moto.core.model_instances import model_data

    for service in ("dynamodb", "dynamodbstreams"):
        for model in model_data.get(service, {}).values():
            tracked = getattr(model, "instances_tracked", None)
            if isinstance(tracked, list) and not isinstance(tracked, _NotKept):
                model.instances_tracked = _NotKept()  # type: ignore[attr-defined]


# The hash keys each table's running transaction names (set under the engine's one lock):
# what its rollback backup must copy deeply. See _cheap_transaction_backups.
_TOUCHED: dict[str, set[Any]] = {}


def _cheap_transaction_backups() -> None:
    """moto backs up every table a TransactWriteItems names with a deepcopy, made before each
    transaction action: its cost grew with the table (a transaction took 220 ms once the table
    held 4,000 items, ~0.5 s at 10k), and with a stream on, with every write ever made. A
    backup now copies the table's partition map and deeply only the partitions the
    transaction names, which are all it can change (moto updates items in place, puts and
    deletes change only their own partition's map); the others are shared. The stream
    shard's backup shares its records and copies only their list. A rollback restores exactly
    what was there before, so an aborted transaction still leaves no change, no stream record
    and no event. Outside a transaction (nothing in _TOUCHED) a table is copied deeply."""
    from moto.dynamodb.models.table import StreamShard, Table

    def shard_backup(shard: Any, memo: dict[int, Any]) -> Any:
        copied = copy.copy(shard)
        copied.items = list(shard.items)
        return copied

    def table_backup(table: Any, memo: dict[int, Any]) -> Any:
        copied = copy.copy(table)
        memo[id(table)] = copied
        touched = _TOUCHED.get(table.name)
        if touched is None:
            for name, value in vars(table).items():
                setattr(copied, name, copy.deepcopy(value, memo))
            return copied
        copied.items = table.items.copy()  # a C-level copy: the partitions it does not name are shared
        for partition in touched:
            if partition in table.items:
                copied.items[partition] = copy.deepcopy(table.items[partition], memo)
        copied.stream_shard = copy.deepcopy(table.stream_shard, memo)
        return copied

    StreamShard.__deepcopy__ = shard_backup  # type: ignore[attr-defined]
    Table.__deepcopy__ = table_backup  # type: ignore[attr-defined]


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, set[Any]]:
    """Per table, the hash keys (moto's DynamoType) a transaction's actions name."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched: dict[str, set[Any]] = {}
    for action in transact_items:
        op: Any = next(iter(action.values()), None)
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if op is None or table is None:
            continue
        attributes = op.get("Item") if "Item" in op else op.get("Key")
        value = attributes.get(table.hash_key_attr) if isinstance(attributes, dict) else None
        names = touched.setdefault(table.name, set())
        if isinstance(value, dict):
            names.add(DynamoType(value))
    return touched


def _rollback_keeps_the_shard() -> None:
    """moto rolls a refused transaction back by putting its backup *copy* of each table in
    place, stream shard included, while every open shard iterator (a publisher's GetRecords)
    still holds the old shard: that one keeps the aborted records (an event for a change never
    made) and never gets another (every later event lost to that reader). After the rollback,
    the old shard object goes back into the restored table, holding the restored records.
    The same wrapper tells the backups which partitions the transaction names (_TOUCHED)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.transact_write_items, "keeps_the_shard", False):
        return
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        shards = {name: table.stream_shard for name, table in self.tables.items() if table.stream_shard}
        _TOUCHED.update(_touched(self, transact_items))
        try:
            transact(self, transact_items)
        finally:
            _TOUCHED.clear()
            for name, shard in shards.items():
                restored = self.tables.get(name)
                if restored is not None and restored.stream_shard not in (None, shard):
                    shard.items = restored.stream_shard.items
                    shard.table = restored
                    restored.stream_shard = shard

    transact_write_items.keeps_the_shard = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def moto_apps() -> tuple[WsgiApp, WsgiApp]:
    """moto's server app (every service, its dashboard) and, resolved once, its DynamoDB app."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    _forget_dynamodb_instances()
    _cheap_transaction_backups()
    _rollback_keeps_the_shard()

    dispatcher = DomainDispatcherApplication(create_backend_app)
    dynamodb: WsgiApp = dispatcher.get_application(_environ("us-east-1", "ListTables", b"{}"))
    return dispatcher, dynamodb


def main(argv: list[str] | None = None) -> int:
    """Serve the embedded engine until stopped; the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--data-dir", type=Path, default=None, help="journal + snapshot here (durable)")
    parser.add_argument(
        "--compact-every", type=int, default=COMPACT_EVERY, help="journal lines between snapshots"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    # One account for every request, whatever key id a client signs with: replay uses none.
    os.environ.setdefault("MOTO_ACCOUNT_ID", "123456789012")

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    data = DataDir(args.data_dir) if args.data_dir else None
    dispatcher, dynamodb = moto_apps()
    engine = Engine(dispatcher, data, compact_every=args.compact_every, dynamodb_app=dynamodb)
    if data is not None:
        try:
            print(f"engine: {engine.restore()} from {args.data_dir}", flush=True)
        except JournalCorrupt as exc:
            print(f"engine: refusing to start: {exc}", file=sys.stderr, flush=True)
            return 3

    def stop(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the snapshot
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"embedded DynamoDB engine on http://{args.host}:{args.port}", flush=True)
    try:
        run_simple(args.host, args.port, engine, threaded=True, request_handler=MotoRequestHandler)
    finally:
        if data is not None:
            engine.lock.acquire()  # kept: nothing changes after the snapshot; the process ends
            engine.compact()
            print("engine: state compacted into the snapshot; stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
