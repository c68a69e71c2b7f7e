"""`make load`'s event count: every committed change of the run is on its stack's local bus
(EVENTS_FILE) exactly once, and nothing else is.

The committed changes come from two sources, as pure inputs (no HTTP, no DynamoDB here):
- what the run saw acknowledged (tools/locustfile.py's records: a 201 registration or
  creation, a 200 PATCH with its version, a 204 DELETE, an order placed, paid, cancelled,
  shipped or delivered);
- a scan of the table at the end, which also holds what was committed while its answer was
  lost (the engine killed mid-request): every user, product and order item, and every outbox
  item (a resource's latest event; for a deleted product, its deletion).

Each change becomes the id its event must carry (`event_id`: type, subject, revision), so
the comparison is between sets of ids, and a duplicate line on the bus is found too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.models.events import event_id

# event id → "type subject": what a committed change must have put on the bus
Expected = dict[str, str]


def change(event_type: str, subject: str, revision: str) -> Expected:
    """The one event a change must have published, by its stable id."""
    return {event_id(event_type, subject, revision): f"{event_type} {subject}"}


@dataclass(frozen=True)
class Count:
    """Published events against committed changes."""

    published: Counter[str] = field(default_factory=Counter)  # type → lines on the bus
    committed: Counter[str] = field(default_factory=Counter)  # type → changes
    acknowledged: int = 0
    missing: list[str] = field(default_factory=list)  # "type subject" committed, not published
    unexpected: list[str] = field(default_factory=list)  # published, no such change
    duplicates: list[str] = field(default_factory=list)  # ids on the bus more than once

    @property
    def equal(self) -> bool:
        """Each committed change published once, nothing else."""
        return not (self.missing or self.unexpected or self.duplicates)

    def report(self) -> dict[str, Any]:
        """The report's `events` section."""
        types = sorted(set(self.published) | set(self.committed))
        return {
            "published": sum(self.published.values()),
            "committed": sum(self.committed.values()),
            "acknowledged": self.acknowledged,
            "equal": self.equal,
            "by_type": {t: {"published": self.published[t], "committed": self.committed[t]} for t in types},
            "missing": self.missing[:10],
            "unexpected": self.unexpected[:10],
            "duplicates": self.duplicates[:10],
        }


def acknowledged(records: Iterable[Mapping[str, Any]]) -> Expected:
    """The changes the run was told were made."""
    found: Expected = {}
    for record in records:
        found.update(_acknowledged_one(record))
    return found


_ORDER_STEPS = {"cancel": "cancelled", "ship": "shipped", "deliver": "delivered"}


def _acknowledged_one(record: Mapping[str, Any]) -> Expected:
    kind, status = record.get("kind"), record.get("status")
    if kind == "register" and status == 201:
        return change("user.registered", f"users/{record['id']}", "1")
    if kind == "create" and status == 201:
        return change("product.created", f"products/{record['id']}", "1")
    if kind == "patch" and status == 200:
        return change("product.updated", f"products/{record['product']}", str(record["version"]))
    if kind == "delete" and status == 204:
        return change("product.deleted", f"products/{record['product']}", "deleted")
    if kind == "order" and status == 201:
        return change("order.placed", f"orders/{record['id']}", "placed")
    if kind == "payment" and record.get("outcome") == "paid":
        return change("order.paid", f"orders/{record['order']}", "paid")
    if kind in _ORDER_STEPS and status == 200:
        step = _ORDER_STEPS[str(kind)]
        return change(f"order.{step}", f"orders/{record['order']}", step)
    return {}


def in_table(
    items: Iterable[Mapping[str, Any]], records: Iterable[Mapping[str, Any]], catalogue: set[str]
) -> Expected:
    """The changes the table's items show were committed.

    A shopper's product changes version only by PATCH in this workload (orders take stock
    from the catalogue only), so its versions 2..n are its updates; a catalogue product is
    never patched. A deleted product's updates run to the version its DELETE named (If-Match).
    """
    found: Expected = {}
    deleted: set[str] = set()
    for item in items:
        found.update(_in_item(item, catalogue))
        if item.get("type") == "event" and item["event_type"] == "product.deleted":
            deleted.add(str(item["subject"]))
    for record in records:
        subject = f"products/{record.get('product')}"
        if record.get("kind") == "delete" and subject in deleted:
            found.update(_updates(subject, int(record["version"])))
    return found


def _in_item(item: Mapping[str, Any], catalogue: set[str]) -> Expected:
    kind = item.get("type")
    if kind == "user" and str(item.get("pk", "")).startswith("USER#"):
        return change("user.registered", f"users/{item['id']}", "1")
    if kind == "product":
        subject = f"products/{item['id']}"
        updates = {} if item["id"] in catalogue else _updates(subject, int(item["version"]))
        return {**change("product.created", subject, "1"), **updates}
    if kind == "order":
        subject = f"orders/{item['id']}"
        steps = [str(step["status"]) for step in item["status_history"]]
        return {k: v for step in steps for k, v in change(f"order.{step}", subject, step).items()}
    if kind == "event":  # the outbox: a resource's latest event, by its own id
        return {str(item["id"]): f"{item['event_type']} {item['subject']}"}
    return {}


def _updates(subject: str, version: int) -> Expected:
    found: Expected = {}
    for v in range(2, version + 1):
        found.update(change("product.updated", subject, str(v)))
    return found


def count(committed: Expected, acked: Expected, published: Sequence[Mapping[str, Any]]) -> Count:
    """Compare the bus's lines with the committed changes, by event id."""
    expected = {**committed, **acked}
    lines = Counter(str(event["id"]) for event in published)
    types = {str(event["id"]): f"{event['type']} {event['subject']}" for event in published}
    return Count(
        published=Counter(types[i].split(" ", 1)[0] for i in lines.elements()),
        committed=Counter(label.split(" ", 1)[0] for label in expected.values()),
        acknowledged=len(acked),
        missing=sorted(label for i, label in expected.items() if i not in lines),
        unexpected=sorted(f"{types[i]} {i}" for i in lines if i not in expected),
        duplicates=sorted(i for i, n in lines.items() if n > 1),
    )
