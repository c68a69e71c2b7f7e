"""bench/stamps.py: the segments between stamps, the DynamoDB call itself left out."""

from __future__ import annotations

import itertools

import pytest

from bench.stamps import segments, stamped


def test_segments_leave_out_the_call_and_sum_a_pair_seen_twice() -> None:
    marks = [
        ("start", 0),
        ("call>", 10_000),
        ("call<", 900_000),
        ("f>", 903_000),
        ("f<", 904_000),
        ("f>", 906_000),
        ("f<", 908_000),
        ("end", 909_000),
    ]

    assert segments(marks) == {
        "start -> call>": 10.0,
        "call< -> f>": 3.0,
        "f> -> f<": 3.0,  # 1 + 2 µs: the two calls of f
        "f< -> f>": 2.0,
        "f< -> end": 1.0,
    }


def test_a_stamped_function_answers_as_before_and_stamps_its_exit_when_it_raises() -> None:
    marks: list[tuple[str, int]] = []

    def fails(value: int) -> int:
        raise ValueError(value)

    assert stamped(lambda x, y=1: x + y, "add", marks)(2, y=3) == 5
    with pytest.raises(ValueError, match="4"):
        stamped(fails, "fails", marks)(4)

    assert [name for name, _ in marks] == ["add>", "add<", "fails>", "fails<"]
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(marks))
