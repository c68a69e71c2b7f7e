"""The local event publisher: the embedded engine's DynamoDB stream → EVENTS_FILE.

The deployed publisher's twin (chalicelib/publisher.py): it reads the table's stream through
the DynamoDB Streams API (moto serves it), keeps the outbox items' events, and appends each to
the local bus, one JSON line, in stream order. Each new event is also handed to the webhook
dispatcher (services/webhook_delivery.py), which delivers it to the subscriptions that
receive it from this same thread, retries included. Dedupe-safe: the ids already in the file are
skipped, so re-reading the stream (after a restart of the engine, which replays its journal,
or of this process) never writes an event twice.

    python -m tools.event_publisher [--interval 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from chalicelib.config import Settings, get_settings
from chalicelib.models.events import CloudEvent
from chalicelib.services.webhook_delivery import Policy
from chalicelib.store.outbox import StreamEvent, stream_events
from chalicelib.store.table import create_client
from chalicelib.webhook_worker import Dispatcher

GET_RECORDS_LIMIT = 1000


def ids_in(path: Path) -> set[str]:
    """The event ids already written to the local bus (a torn last line is ignored)."""
    if not path.exists():
        return set()
    seen = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            seen.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return seen


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line without its newline (a publisher killed mid-write): its event is still
    in the stream and is written again, whole."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as out:
            out.truncate(data.rfind(b"\n") + 1)


class LocalBus:
    """EVENTS_FILE: one JSON line per event, each id once, flushed to disk as it is written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _drop_torn_tail(path)
        self.seen = ids_in(path)

    def append(self, events: list[StreamEvent]) -> int:
        """Append the events not yet on the bus; how many were new."""
        return len(self.append_new(events))

    def append_new(self, events: list[StreamEvent]) -> list[CloudEvent]:
        """Append the events not yet on the bus; the new ones, in stream order."""
        fresh: list[CloudEvent] = []
        for found in events:
            if found.event.id not in self.seen:
                self.seen.add(found.event.id)
                fresh.append(found.event)
        if fresh:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write("".join(event.to_json() + "\n" for event in fresh))
                out.flush()
                os.fsync(out.fileno())
        return fresh


class StreamReader:
    """Every record of the table's current stream, in order, each shard from its start."""

    def __init__(self, dynamodb: Any, streams: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.streams = streams
        self.table = table
        self.arn: str | None = None
        self.iterators: dict[str, str | None] = {}

    def read(self) -> list[dict[str, Any]]:
        """The records that arrived since the last read (all of them after a new stream)."""
        arn = self.dynamodb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
        if arn != self.arn:  # a new stream (the engine restarted): read it from its start
            self.arn, self.iterators = arn, {}
        if arn is None:
            return []
        records: list[dict[str, Any]] = []
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            records.extend(self._shard(arn, shard["ShardId"]))
        return records

    def _shard(self, arn: str, shard_id: str) -> list[dict[str, Any]]:
        if shard_id not in self.iterators:
            self.iterators[shard_id] = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        iterator = self.iterators[shard_id]
        if iterator is None:  # a closed shard, read to its end
            return []
        answer = self.streams.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
        self.iterators[shard_id] = answer.get("NextShardIterator")
        records: list[dict[str, Any]] = answer.get("Records", [])
        return records


class Publisher:
    """Polls the stream and appends its events to the local bus; with a webhook dispatcher,
    hands it each new event and runs the delivery attempts that are due, in this thread."""

    def __init__(self, reader: StreamReader, bus: LocalBus, dispatcher: Dispatcher | None = None) -> None:
        self.reader = reader
        self.bus = bus
        self.dispatcher = dispatcher
        self.held: list[StreamEvent] = []  # read, not yet fanned out: kept off the bus

    def poll(self) -> int:
        """One read of the stream (and a round of webhook deliveries); the number of new events written.

        With webhooks, an event goes on the bus only once it is in its lanes (the table): an
        event whose fan-out failed stays off the bus, so a restart that re-reads the stream
        fans it out then (the bus's dedupe would skip it otherwise)."""
        found = stream_events(self.reader.read())
        if self.dispatcher is None:
            return len(self.bus.append_new(found))
        held = {e.event.id for e in self.held}
        fresh = [e for e in found if e.event.id not in self.bus.seen and e.event.id not in held]
        self.held.extend(fresh)
        self.dispatcher.publish([e.event for e in fresh])
        waiting = {event.id for event in self.dispatcher.backlog}  # the failed one and those after it
        ready = [e for e in self.held if e.event.id not in waiting]
        self.held = [e for e in self.held if e.event.id in waiting]
        written = self.bus.append_new(ready)
        self.dispatcher.run_due()
        return len(written)

    def run(self, stop: threading.Event, interval: float = 0.2) -> None:
        """Poll until `stop` is set; an unreachable engine is waited for, then read from the start."""
        while not stop.is_set():
            try:
                self.poll()
            except Exception as exc:  # the engine restarting: start over, the bus dedupes
                print(f"event publisher: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                self.reader.arn, self.reader.iterators = None, {}
                stop.wait(1.0)
                continue
            stop.wait(interval)


def clients_for(dynamodb: Any) -> tuple[Any, Any]:
    """The DynamoDB client and a DynamoDB Streams client on the same (local) endpoint."""
    import boto3

    streams = boto3.session.Session().client(
        "dynamodbstreams",
        region_name=dynamodb.meta.region_name,
        endpoint_url=dynamodb.meta.endpoint_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - local engines only
    )
    return dynamodb, streams


def publisher_for(settings: Settings, webhooks: bool = True) -> Publisher:
    """The publisher of the settings' table to its EVENTS_FILE (and to webhook subscribers)."""
    dynamodb, streams = clients_for(create_client(settings))
    dispatcher = None
    if webhooks:
        from chalicelib.api.deps import get_table

        policy = Policy(base_seconds=settings.webhook_retry_base_seconds)
        dispatcher = Dispatcher(get_table(), settings.is_local, policy)
    return Publisher(
        StreamReader(dynamodb, streams, settings.table_name), LocalBus(Path(settings.events_file)), dispatcher
    )


def main(argv: list[str] | None = None) -> int:
    """Publish until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between stream reads")
    args = parser.parse_args(argv)
    settings = get_settings()
    print(f"event publisher: {settings.table_name} stream → {settings.events_file}", flush=True)
    stop = threading.Event()
    try:
        publisher_for(settings).run(stop, args.interval)
    except KeyboardInterrupt:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
