"""clock.isoformat writes exactly what its strftime form wrote, for every instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib.clock import isoformat
from tests.orderflow import parse_timestamp


def strftime_form(moment: datetime) -> str:
    """The previous implementation, kept here as the reference."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (f"{moment.microsecond // 1000:03d}Z")


_zones = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=_zones))
@example(datetime(2026, 11, 22, 2, 14, 32, 123999, tzinfo=UTC))
@example(datetime(999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC))
@example(datetime(1000, 1, 1, tzinfo=UTC))
def test_isoformat_is_the_strftime_form(moment: datetime) -> None:
    assert isoformat(moment) == strftime_form(moment)


def test_isoformat_truncates_to_milliseconds_and_round_trips() -> None:
    moment = datetime(2026, 11, 22, 2, 14, 32, 123999, tzinfo=UTC)
    assert isoformat(moment) == "2026-11-22T02:14:32.123Z"
    assert parse_timestamp(isoformat(moment)) == moment.replace(microsecond=123000)
