"""Time and identifiers: one place that says what "now" and "a new id" mean."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC, truncated to milliseconds."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def isoformat(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds: 2026-11-22T02:14:32.123Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (f"{moment.microsecond // 1000:03d}Z")


def new_id(moment: datetime | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, 80 random bits; sorts by time."""
    millis = int(moment.timestamp() * 1000) if moment else time.time_ns() // 1_000_000
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))
