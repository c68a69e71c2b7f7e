"""clock's identifiers and its memory of the last instant written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib import clock
from chalicelib.clock import crockford_26, isoformat, new_id

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def digit_by_digit(value: int) -> str:
    """The previous implementation, kept here as the reference: five bits a step."""
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


@given(st.integers(min_value=0, max_value=2**130 - 1))
@example(0)
@example(2**128 - 1)
@example(2**130 - 1)
@example(int("1" * 130, 2) ^ int("10" * 65, 2))
def test_crockford_26_is_the_digit_by_digit_form(value: int) -> None:
    assert crockford_26(value) == digit_by_digit(value)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)))
def test_a_new_id_spells_its_milliseconds_then_80_random_bits(moment: datetime) -> None:
    made = new_id(moment)
    value = int("".join(f"{CROCKFORD.index(c):05b}" for c in made), 2)
    assert len(made) == 26
    assert value >> 80 == int(moment.timestamp() * 1000)
    assert value < 2**128


def test_ids_sort_by_time_and_do_not_repeat() -> None:
    earlier = datetime(2026, 12, 4, 12, 0, 0, 1000, tzinfo=UTC)
    later = earlier + timedelta(milliseconds=1)
    made = [new_id(earlier) for _ in range(200)]
    assert len(set(made)) == 200
    assert max(made) < new_id(later)


class _Ambiguous(tzinfo):
    """A zone whose offset depends on fold, as at the end of summer time (2:30 twice)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1 if dt is not None and dt.fold else 2)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "AMB"


def test_the_memory_of_the_last_instant_does_not_confuse_equal_datetimes() -> None:
    zone = _Ambiguous()
    first = datetime(2026, 10, 25, 2, 30, tzinfo=zone)
    second = first.replace(fold=1)
    assert first == second  # one zone: compared without fold
    assert isoformat(first) == "2026-10-25T00:30:00.000Z"
    assert isoformat(second) == "2026-10-25T01:30:00.000Z"
    assert isoformat(first) == "2026-10-25T00:30:00.000Z"


@given(st.lists(st.datetimes(timezones=st.just(UTC)), min_size=1, max_size=5))
def test_an_instant_written_again_is_written_the_same(moments: list[datetime]) -> None:
    for moment in moments:
        text = isoformat(moment)
        assert clock._last_written == (moment, text)
        assert isoformat(moment) == text == isoformat(moment.replace())  # a fresh equal object
