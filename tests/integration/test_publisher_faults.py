"""The deployed publisher (chalicelib/publisher.handler) under faults, over the real engine's
stream: the function killed mid-batch and the bus refusing entries or unreachable → no event
lost, duplicates only with the same id (and the same content), in commit order per resource.

Lambda's event source mapping is modelled here as AWS documents it for a stream with
`ReportBatchItemFailures` (MiniStack does not honour that for streams, docs/deployment.md):
a batch of up to BATCH_SIZE records from the checkpoint; a returned `batchItemFailures`
checkpoints before the named record and retries from it; a function error (the process
killed) retries the whole batch; after MAX_RETRY_ATTEMPTS retries the batch is described to
the dead-letter queue and skipped.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import publisher
from chalicelib.store.outbox import stream_events
from chalicelib.store.table import Table
from infra.events import BATCH_SIZE, MAX_RETRY_ATTEMPTS
from tests.integration.test_events_publisher import a_life, send
from tools import event_publisher
from tools.event_publisher import StreamReader


class Killed(BaseException):
    """The function's process dying (timeout, out of memory) in the middle of a batch."""


@dataclass
class Bus:
    """A stand-in EventBridge client. Each PutEvents call takes the next step of a plan:
    "ok", "refuse" (a random entry gets an ErrorCode, the others are accepted, as PutEvents
    does; "refuse@N": the N-th entry), "down" (the call raises), "kill" (the entries are
    accepted, then the process dies before the function can answer)."""

    plan: Callable[[], str]
    delivered: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        step = self.plan()
        if step == "down":
            raise ConnectionError("bus unreachable")
        refused = self.rng.randrange(len(Entries)) if step == "refuse" else None
        refused = int(step.removeprefix("refuse@")) if step.startswith("refuse@") else refused
        answers = []
        for n, entry in enumerate(Entries):
            if n == refused:
                answers.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                self.delivered.append(json.loads(entry["Detail"]))
                answers.append({"EventId": str(len(self.delivered))})
        if step == "kill":
            raise Killed
        return {"FailedEntryCount": int(refused is not None), "Entries": answers}


@dataclass
class EventSourceMapping:
    """One shard's mapping: checkpoint, batches, partial failures, bounded retries, DLQ."""

    records: list[dict[str, Any]]
    batch_size: int = BATCH_SIZE
    dead_letters: list[tuple[str, str]] = field(default_factory=list)  # (first, last) sequence

    def drain(self) -> int:
        """Invoke the handler until the stream is consumed; the number of invocations."""
        position, attempts, invocations = 0, 0, 0
        while position < len(self.records):
            batch = self.records[position : position + self.batch_size]
            invocations += 1
            done = self._invoke(batch)
            if done == len(batch):
                position, attempts = position + done, 0
                continue
            position, attempts = position + done, attempts + 1 if done == 0 else 1
            if attempts > MAX_RETRY_ATTEMPTS:
                rest = self.records[position : position + self.batch_size]
                self.dead_letters.append((_sequence(rest[0]), _sequence(rest[-1])))
                position, attempts = position + len(rest), 0
        return invocations

    def _invoke(self, batch: list[dict[str, Any]]) -> int:
        """How many records of the batch are done (checkpointed)."""
        try:
            answer = publisher.handler({"Records": batch}, None)
        except (Killed, Exception):
            return 0  # a function error: the whole batch again
        failures = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
        if not failures:
            return len(batch)
        return [_sequence(r) for r in batch].index(failures[0])


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


@pytest.fixture
def outbox_records(client: Client, table: Table) -> list[dict[str, Any]]:
    """The stream records of outbox items after several users' lives (what the mapping's
    filter passes): enough events for several PutEvents chunks per batch."""
    for n in range(6):
        a_life(client, email=f"f{n}@example.com")
    body = {"email": "g@example.com", "password": "correct-horse-battery", "name": "G"}
    assert send(client, "POST", "/users", body).status_code == 201
    _, streams = event_publisher.clients_for(table.client)
    records = StreamReader(table.client, streams, table.name).read()
    return [r for r in records if stream_events([r])]


@pytest.fixture
def bus() -> Iterator[Callable[[Callable[[], str]], Bus]]:
    """Install a stand-in bus as the container's cached client; removed after."""

    def install(plan: Callable[[], str]) -> Bus:
        made = Bus(plan)
        publisher._client[:] = [made]
        return made

    yield install
    publisher._client.clear()


def _in_commit_order(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for found in stream_events(records):
        order[found.event.subject].append(found.event.id)
    return order


def _first_deliveries(delivered: list[dict[str, Any]]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for event in delivered:
        if event["id"] not in order[event["subject"]]:
            order[event["subject"]].append(event["id"])
    return order


def _flaky(seed: int) -> Callable[[], str]:
    """A fault on one call in four, never two in a row (so a batch gets through within the
    retry bound); the second call always kills the function after its chunk was put."""
    rng, streak, calls = random.Random(seed), [0], [0]

    def step() -> str:
        calls[0] += 1
        choice = "ok" if streak[0] >= 1 else rng.choice(["ok"] * 9 + ["refuse", "down", "kill"])
        choice = "kill" if calls[0] == 2 else choice
        streak[0] = 0 if choice == "ok" else streak[0] + 1
        return choice

    return step


@pytest.mark.parametrize("seed", range(6))
def test_a_failing_bus_and_a_killed_publisher_lose_nothing_and_repeat_only_same_ids(
    outbox_records: list[dict[str, Any]], bus: Callable[[Callable[[], str]], Bus], seed: int
) -> None:
    # Given the committed changes' stream records, and a bus that refuses, drops and kills
    stand_in = bus(_flaky(seed))
    mapping = EventSourceMapping(outbox_records, batch_size=25)
    # When the mapping feeds them to the publisher until the stream is consumed
    invocations = mapping.drain()
    # Then every event is on the bus, none was given up on
    committed = _in_commit_order(outbox_records)
    assert {e["id"] for e in stand_in.delivered} == {i for ids in committed.values() for i in ids}
    assert mapping.dead_letters == []
    # and a repeated delivery is the same event: same id, same content
    by_id: dict[str, dict[str, Any]] = {}
    for event in stand_in.delivered:
        assert by_id.setdefault(event["id"], event) == event
    # and a consumer deduping by id sees each resource's events in commit order
    assert _first_deliveries(stand_in.delivered) == committed
    # (the faults happened: some batches were retried, some events delivered twice)
    assert invocations > -(-len(outbox_records) // 25)
    assert len(stand_in.delivered) > len(by_id)


def test_a_bus_down_for_good_sends_the_batch_to_the_dead_letter_queue(
    outbox_records: list[dict[str, Any]], bus: Callable[[Callable[[], str]], Bus]
) -> None:
    # Given a bus that never answers
    stand_in = bus(lambda: "down")
    mapping = EventSourceMapping(outbox_records, batch_size=len(outbox_records))
    # When the mapping has retried as often as it may
    invocations = mapping.drain()
    # Then the batch is described to the DLQ, naming its records: given up on, not lost silently
    assert invocations == 1 + MAX_RETRY_ATTEMPTS
    assert mapping.dead_letters == [(_sequence(outbox_records[0]), _sequence(outbox_records[-1]))]
    assert stand_in.delivered == []


def test_a_refused_event_is_never_overtaken_by_its_resources_next_one(
    outbox_records: list[dict[str, Any]], bus: Callable[[Callable[[], str]], Bus]
) -> None:
    # Given a bus that refuses the first call's second entry (a product.created, whose
    # product's updates follow it in the stream) and accepts every other entry, as PutEvents may
    plan = iter(["refuse@1"])
    stand_in = bus(lambda: next(plan, "ok"))
    first_two = [found.event.type for found in stream_events(outbox_records[:2])]
    assert first_two == ["user.registered", "product.created"]
    # When the mapping feeds the stream to the publisher
    EventSourceMapping(outbox_records).drain()
    # Then nothing of that product reached the bus before its creation did
    assert _first_deliveries(stand_in.delivered) == _in_commit_order(outbox_records)
