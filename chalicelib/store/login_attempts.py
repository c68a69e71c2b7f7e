"""Login-attempt counters: one item per e-mail address (registered or not), with a TTL.

An attempt is reserved BEFORE its password is checked, by one conditional write, so no
more than `limit` passwords are checked per address and window however many requests
arrive at once. A fixed window opens with the first attempt. DynamoDB's TTL deletes
expired items only eventually (up to days later), so the window's start is always
checked, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import ServiceUnavailableError
from chalicelib.retry import Retry, TryAgain
from chalicelib.store import keys
from chalicelib.store.expr import Update, eq, gt, le, lt, not_exists
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import ConditionFailedError, Table


@dataclass(frozen=True)
class Window:
    """The attempt window of an address: opened at `start` (epoch seconds), lasting `seconds`."""

    start: int
    seconds: int

    def retry_after(self, now: int) -> int:
        """Seconds until the window closes (at least 1)."""
        return max(1, self.start + self.seconds - now)


@dataclass(frozen=True)
class Reservation:
    """The outcome of asking to check one more password."""

    granted: bool
    number: int  # the attempt's number in its window (when granted)
    window: Window


def _open_window(table: Table, email: str, now: int, seconds: int) -> Reservation:
    """Start a new window at `now` with this attempt as its first, unless one is open."""
    cutoff = now - seconds
    update = Update().set("attempts", 1).set("window_start", now).set(TTL_ATTRIBUTE, now + seconds)
    try:
        table.update(keys.login_attempts_key(email), update, not_exists() | le("window_start", cutoff))
    except ConditionFailedError as exc:  # another request opened it a moment ago
        raise TryAgain() from exc
    return Reservation(True, 1, Window(now, seconds))


def _reserve_once(table: Table, email: str, now: int, seconds: int, limit: int) -> Reservation:
    cutoff = now - seconds
    update = (
        Update()
        .add("attempts", 1)
        .set_if_absent("window_start", now)
        .set_if_absent(TTL_ATTRIBUTE, now + seconds)
    )
    open_with_room = gt("window_start", cutoff) & lt("attempts", limit)
    try:
        item = table.update(keys.login_attempts_key(email), update, not_exists() | open_with_room)
    except ConditionFailedError as failure:
        old = failure.item or {}
        if old and int(old["window_start"]) > cutoff:  # open and full: refused
            return Reservation(False, int(old["attempts"]), Window(int(old["window_start"]), seconds))
        return _open_window(table, email, now, seconds)  # expired: a new window
    return Reservation(True, int(item["attempts"]), Window(int(item["window_start"]), seconds))


def reserve(table: Table, email: str, now: int, seconds: int, limit: int, retry: Retry) -> Reservation:
    """Count one attempt if the open window has room (or open a new window with it).

    One conditional UpdateItem in the common case; a second when the old window expired.
    Racing window openings are retried (Retry), never recursed.
    """
    return retry.run(lambda _: _reserve_once(table, email, now, seconds, limit), _contention)


def _contention() -> Exception:
    return ServiceUnavailableError(retry_after=1, message="Too much contention on this account, retry")


def clear(table: Table, email: str, number: int) -> bool:
    """Forget the window after a successful login, unless attempts were reserved after this one
    (then they are in flight, and clearing would hand them a fresh budget)."""
    try:
        table.delete(keys.login_attempts_key(email), eq("attempts", number))
    except ConditionFailedError:
        return False
    return True


def release(table: Table, email: str, number: int) -> bool:
    """Hand back attempt `number` whose password was never checked (the check failed on an
    outage), unless attempts were reserved after it: one conditional write, best effort."""
    key = keys.login_attempts_key(email)
    try:
        if number == 1:  # the window opened with this attempt: no window, as before it
            table.delete(key, eq("attempts", 1))
        else:
            table.update(key, Update().add("attempts", -1), eq("attempts", number))
    except (ConditionFailedError, ServiceUnavailableError):
        return False
    return True
