"""The attempt limit that login and refresh share (kept apart so neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LockoutPolicy:
    """At most `max_failures` password checks per e-mail address (registered or not) within
    `window_seconds`; a successful login clears the count. Refreshes are counted per session
    the same way."""

    max_failures: int = 5
    window_seconds: int = 15 * 60


DEFAULT_LOCKOUT = LockoutPolicy()
