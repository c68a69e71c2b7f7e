"""The per-request deadline: no DynamoDB attempt starts that could outlast it, and the
deployed budget leaves the function time to answer its own 503."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from chalicelib import deadline
from chalicelib.config import load_settings
from tests.conftest import ROOT

ATTEMPT_SECONDS = 4.0  # connect 1 s + read 3 s: create_client's defaults


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    yield FakeClock()
    deadline.clear()


def test_an_attempt_starts_only_while_it_can_finish_before_the_deadline(clock: FakeClock) -> None:
    refuse = deadline.guard(ATTEMPT_SECONDS)
    deadline.start(10, clock)
    refuse()  # 10 s left: fine
    clock.now += 6
    refuse()  # exactly 4 s left: an attempt still fits
    clock.now += 0.5
    with pytest.raises(deadline.DeadlineExceededError):
        refuse()


def test_no_deadline_outside_a_request(clock: FakeClock) -> None:
    deadline.start(1, clock)
    deadline.clear()
    assert deadline.remaining() is None
    deadline.guard(ATTEMPT_SECONDS)()  # operator commands are never cut short


@pytest.mark.parametrize(
    ("configured", "lambda_ms", "budget"),
    [(12, None, 12), (12, 15_000, 12), (12, 5_000, 3.5), (12, 1_000, 0)],
)
def test_the_budget_is_capped_by_lambdas_remaining_time_minus_a_margin(
    configured: float, lambda_ms: int | None, budget: float
) -> None:
    assert deadline.budget_seconds(configured, lambda_ms) == budget


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deployed_budget_fits_the_function_timeout_and_at_least_one_attempt(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {**config["environment_variables"], **config["stages"][stage]["environment_variables"]}
    settings = load_settings(env)
    timeout = config["stages"][stage]["lambda_timeout"]
    assert settings.request_budget_seconds + deadline.MARGIN_SECONDS <= timeout
    assert settings.request_budget_seconds >= ATTEMPT_SECONDS
