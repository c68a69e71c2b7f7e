"""Failed-login counters: one item per e-mail address (registered or not), with a TTL.

A fixed window opens at the first failure. DynamoDB's TTL deletes expired items only
eventually (up to days later), so the window's start is always checked, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.store import keys
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import ConditionFailedError, Table, to_attributes


@dataclass(frozen=True)
class Attempts:
    """Failures counted in the window that opened at `window_start` (epoch seconds)."""

    count: int
    window_start: int


def current(table: Table, email: str, now: int, window_seconds: int) -> Attempts | None:
    """The open window's failures, or None when there is no open window."""
    item = table.get(keys.login_attempts_key(email))
    if not item or int(item["window_start"]) <= now - window_seconds:
        return None
    return Attempts(count=int(item["attempts"]), window_start=int(item["window_start"]))


def record_failure(table: Table, email: str, now: int, window_seconds: int) -> Attempts:
    """Count one failure: in the open window if there is one, else in a new window."""
    key = keys.login_attempts_key(email)
    try:
        item = table.update(
            key,
            UpdateExpression="ADD attempts :one",
            ConditionExpression="attribute_exists(pk) AND window_start > :cutoff",
            ExpressionAttributeValues=to_attributes({":one": 1, ":cutoff": now - window_seconds}),
        )
        return Attempts(count=int(item["attempts"]), window_start=int(item["window_start"]))
    except ConditionFailedError:
        pass
    try:
        # A new window, unless a racing request opened one a moment ago.
        table.put(
            {**key, "attempts": 1, "window_start": now, TTL_ATTRIBUTE: now + window_seconds},
            ConditionExpression="attribute_not_exists(pk) OR window_start <= :cutoff",
            ExpressionAttributeValues=to_attributes({":cutoff": now - window_seconds}),
        )
        return Attempts(count=1, window_start=now)
    except ConditionFailedError:
        return record_failure(table, email, now, window_seconds)


def clear(table: Table, email: str) -> None:
    """Forget the failures (after a successful login)."""
    table.delete(keys.login_attempts_key(email))
