"""Time and identifiers: one place that says what "now" and "a new id" mean."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Every pair of Crockford digits, by the 10 bits it spells: a ULID's 26 digits are 13 pairs.
_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]
_PAIR_SHIFTS = tuple(range(120, -10, -10))

# The last instant written and its text (one tuple: read and replaced atomically). A
# write formats one instant ~8 times (its item's created_at and updated_at, the index key,
# its event, its public view), the same datetime object throughout. Matched by identity,
# not equality: two equal datetimes of one zone can differ in `fold`, and so in UTC.
_last_written: tuple[datetime | None, str] = (None, "")


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC, truncated to milliseconds."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def isoformat(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds: 2026-11-22T02:14:32.123Z.

    Every timestamp of every response body comes through here (two a product, forty a
    page): datetime's own isoformat is ~2.5x faster than strftime and writes the same text
    for years from 1000 (tests/unit/test_clock_isoformat.py); earlier years, which strftime
    writes without padding, keep the strftime path. The instant written last is answered
    from memory (see _last_written)."""
    global _last_written
    last = _last_written
    if moment is last[0]:
        return last[1]
    utc = moment.astimezone(UTC)
    if utc.year < 1000:
        text = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    else:
        text = utc.isoformat(timespec="milliseconds")[:-6] + "Z"  # drop "+00:00"
    _last_written = (moment, text)
    return text


def new_id(moment: datetime | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, 80 random bits; sorts by time."""
    millis = int(moment.timestamp() * 1000) if moment else time.time_ns() // 1_000_000
    return crockford_26((millis << 80) | int.from_bytes(os.urandom(10), "big"))


def crockford_26(value: int) -> str:
    """A number below 2**130 as 26 Crockford base32 digits, most significant first: two
    digits per lookup, a third of the time of one per step (tests/unit/test_clock_ids.py
    holds it to the digit-by-digit form)."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])
