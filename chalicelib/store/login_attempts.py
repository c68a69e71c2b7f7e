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
from chalicelib.models.common import StoredModel
from chalicelib.retry import Retry, TryAgain
from chalicelib.store import keys
from chalicelib.store.codec import Item
from chalicelib.store.expr import Update, eq, gt, le, lt, not_exists
from chalicelib.store.repository import Store
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import ConditionFailedError, Key


class AttemptCounter(StoredModel):
    """A subject's attempt counter as stored: how many in the window opened at `window_start`."""

    attempts: int
    window_start: int  # epoch seconds
    expires_at: int  # epoch seconds; the table's TTL attribute


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


def _contention() -> Exception:
    return ServiceUnavailableError(retry_after=1, message="Too much contention on this account, retry")


def _counter(raw: Item | None) -> AttemptCounter | None:
    # The counter's items carry no `type` (they predate it): any item under its key is one.
    return AttemptCounter.model_validate(raw) if raw else None


class LoginAttemptStore(Store[AttemptCounter]):
    """The attempt counters of login (per e-mail address) and refresh (per session)."""

    item_type = "login_attempts"
    model = AttemptCounter

    def key(self, subject: str) -> Key:
        """LOGIN#<subject> / ATTEMPTS."""
        return keys.login_attempts_key(subject)

    def reserve(
        self, subject: str, now: int, seconds: int, limit: int, retry: Retry | None = None
    ) -> Reservation:
        """Count one attempt if the open window has room (or open a new window with it).

        One conditional UpdateItem in the common case; a second when the old window expired.
        Racing window openings are retried (Retry, the table's by default), never recursed.
        """
        once = self._reserve_once
        return (retry or self.table.retry).run(lambda _: once(subject, now, seconds, limit), _contention)

    def _reserve_once(self, subject: str, now: int, seconds: int, limit: int) -> Reservation:
        cutoff = now - seconds
        update = (
            Update()
            .add("attempts", 1)
            .set_if_absent("window_start", now)
            .set_if_absent(TTL_ATTRIBUTE, now + seconds)
        )
        open_with_room = gt("window_start", cutoff) & lt("attempts", limit)
        try:
            raw = self.table.update(self.key(subject), update, not_exists() | open_with_room)
        except ConditionFailedError as failure:
            old = _counter(failure.item)
            if old is not None and old.window_start > cutoff:  # open and full: refused
                return Reservation(False, old.attempts, Window(old.window_start, seconds))
            return self._open_window(subject, now, seconds)  # expired: a new window
        counter = AttemptCounter.model_validate(raw)
        return Reservation(True, counter.attempts, Window(counter.window_start, seconds))

    def _open_window(self, subject: str, now: int, seconds: int) -> Reservation:
        """Start a new window at `now` with this attempt as its first, unless one is open."""
        cutoff = now - seconds
        update = Update().set("attempts", 1).set("window_start", now).set(TTL_ATTRIBUTE, now + seconds)
        try:
            self.table.update(self.key(subject), update, not_exists() | le("window_start", cutoff))
        except ConditionFailedError as exc:  # another request opened it a moment ago
            raise TryAgain() from exc
        return Reservation(True, 1, Window(now, seconds))

    def clear(self, subject: str, number: int) -> bool:
        """Forget the window after a success, unless attempts were reserved after this one
        (then they are in flight, and clearing would hand them a fresh budget)."""
        return self.table.try_write(lambda: self.table.delete(self.key(subject), eq("attempts", number)))

    def release(self, subject: str, number: int) -> bool:
        """Hand back attempt `number` whose password was never checked (the check failed on an
        outage), unless attempts were reserved after it: one conditional write, best effort."""
        key = self.key(subject)

        def hand_back() -> object:
            if number == 1:  # the window opened with this attempt: no window, as before it
                return self.table.delete(key, eq("attempts", 1))
            return self.table.update(key, Update().add("attempts", -1), eq("attempts", number))

        try:
            return self.table.try_write(hand_back)
        except ServiceUnavailableError:
            return False
