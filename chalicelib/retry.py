"""The one retry helper: bounded attempts, capped exponential backoff.

Sleep is a collaborator, so a test drives every branch (success after contention,
exhaustion) without waiting; a request's time budget is the deadline's
(chalicelib/deadline.py). Every retry loop of the service goes through `Retry.run`:
transaction conflicts, unprocessed batch keys, order re-pricing, and the login-attempt
counter's races.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class TryAgain(Exception):
    """Raised by an attempt that should be repeated (after the backoff)."""


def _is_try_again(exc: Exception) -> bool:
    return isinstance(exc, TryAgain)


@dataclass(frozen=True)
class Retry:
    """How often and how patiently to repeat an attempt."""

    attempts: int = 4
    base_delay: float = 0.02
    max_delay: float = 0.8
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the (0-based) `attempt` failed."""
        return float(min(self.base_delay * 2**attempt, self.max_delay))

    def run(
        self,
        attempt: Callable[[int], T],
        exhausted: Callable[[], Exception],
        retry_if: Callable[[Exception], bool] = _is_try_again,
    ) -> T:
        """`attempt(n)` until it returns; an exception `retry_if` refuses propagates at once.

        After the last attempt `exhausted()` is raised on its own, without a cause: giving up
        is the event (api/errors.py logs it as "retries_exhausted"), not the last refusal.
        """
        for number in range(self.attempts):
            try:
                return attempt(number)
            except Exception as exc:
                if not retry_if(exc):
                    raise
            if number + 1 == self.attempts:
                break
            self.sleep(self.delay(number))
        raise exhausted()


DEFAULT_RETRY = Retry()
