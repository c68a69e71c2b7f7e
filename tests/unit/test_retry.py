"""The one retry helper: every branch driven by a fake clock and a recorded sleep."""

from __future__ import annotations

import pytest

from chalicelib.retry import Retry, TryAgain


class Boom(Exception):
    pass


def test_an_attempt_that_asks_again_is_repeated_after_a_growing_pause() -> None:
    slept: list[float] = []
    calls: list[int] = []

    def attempt(number: int) -> str:
        calls.append(number)
        if number < 2:
            raise TryAgain()
        return "done"

    assert Retry(attempts=4, base_delay=0.02, sleep=slept.append).run(attempt, Boom) == "done"
    assert calls == [0, 1, 2]
    assert slept == [0.02, 0.04]


def test_exhaustion_raises_the_given_error_on_its_own_and_no_final_pause() -> None:
    slept: list[float] = []

    def attempt(_: int) -> None:
        raise TryAgain()

    with pytest.raises(Boom) as raised:
        Retry(attempts=3, sleep=slept.append).run(attempt, Boom)
    assert raised.value.__cause__ is None  # logged as "retries_exhausted" (api/errors.py)
    assert slept == [0.02, 0.04]


def test_an_error_not_meant_for_retrying_propagates_at_once() -> None:
    slept: list[float] = []

    def attempt(_: int) -> None:
        raise KeyError("no")

    with pytest.raises(KeyError):
        Retry(sleep=slept.append).run(attempt, Boom)
    assert slept == []


def test_a_custom_predicate_chooses_what_is_retried() -> None:
    outcomes = iter([ValueError("transient"), None])

    def attempt(_: int) -> str:
        error = next(outcomes)
        if error:
            raise error
        return "ok"

    retry = Retry(sleep=lambda _: None)
    assert retry.run(attempt, Boom, retry_if=lambda e: isinstance(e, ValueError)) == "ok"


def test_the_pause_is_capped() -> None:
    retry = Retry(base_delay=0.1, max_delay=0.3)
    assert [retry.delay(n) for n in range(4)] == [0.1, 0.2, 0.3, 0.3]
