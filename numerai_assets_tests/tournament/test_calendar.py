"""The 2026 round calendar (pure functions) and the scaled clock."""

from __future__ import annotations

import datetime as dt

import pytest

from numerai_assets.tournament.calendar import (
    ScaledClock,
    is_open_time,
    last_open,
    next_open,
    round_window,
    window_opened_at,
)

UTC = dt.UTC
MONDAY = dt.datetime(2026, 6, 1, tzinfo=UTC)  # 2026-06-01 is a Monday


def day(offset: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return MONDAY + dt.timedelta(days=offset, hours=hour, minutes=minute)


@pytest.mark.parametrize("offset", [1, 2, 3, 4])  # Tuesday..Friday
def test_tuesday_to_friday_rounds_close_at_13_the_same_day(offset: int) -> None:
    w = round_window(day(offset))
    assert w.close_staking_time == day(offset, 13)
    assert w.close_time == day(offset + 1)  # late submissions until the next opening
    assert w.score_time > w.close_staking_time and w.resolve_time > w.score_time


def test_saturday_round_closes_sunday_14_and_late_runs_to_tuesday() -> None:
    w = round_window(day(5))
    assert w.close_staking_time == day(6, 14)
    assert w.close_time == day(8)  # next Tuesday 12:00


@pytest.mark.parametrize("when", [day(0), day(6), day(1, 11, 59), day(2, 12, 1)])
def test_no_round_opens_on_sunday_monday_or_off_the_hour(when: dt.datetime) -> None:
    assert not is_open_time(when)
    with pytest.raises(ValueError, match="Tuesday-Saturday at 12:00 UTC"):
        round_window(when)


def test_next_and_last_open_skip_sunday_and_monday() -> None:
    assert next_open(day(5, 12)) == day(8)  # Saturday's opening -> Tuesday
    assert next_open(day(6, 9)) == day(8)
    assert next_open(day(1, 11)) == day(1)
    assert last_open(day(1)) == day(1)
    assert last_open(day(7, 23)) == day(5)  # Monday night -> Saturday's round
    assert [next_open(day(i, 13)).weekday() for i in range(7)] == [1, 2, 3, 4, 5, 1, 1]


def test_a_round_opened_by_hand_closes_at_the_next_calendar_close() -> None:
    assert window_opened_at(day(2, 9)).close_staking_time == day(2, 13)
    assert window_opened_at(day(2, 13, 30)).close_staking_time == day(3, 13)
    sunday = window_opened_at(day(6, 10))  # inside Saturday's round
    assert sunday.open_time == day(6, 10) and sunday.close_staking_time == day(6, 14)
    assert window_opened_at(day(7, 10)).close_staking_time == day(8, 13)  # Monday


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_open(dt.datetime(2026, 6, 2, 12))


def test_scaled_clock_runs_an_hour_per_second() -> None:
    real0 = dt.datetime(2030, 1, 1, tzinfo=UTC)
    clock = ScaledClock.starting_now(3600, calendar_start=day(1, 11), now=real0)
    assert clock.to_calendar(real0 + dt.timedelta(seconds=1)) == day(1, 12)
    w = clock.window_to_real(round_window(day(1)))
    assert w.open_time == real0 + dt.timedelta(seconds=1)
    assert w.close_staking_time == real0 + dt.timedelta(seconds=2)
    assert clock.to_real(clock.to_calendar(real0 + dt.timedelta(seconds=7))) == (real0 + dt.timedelta(seconds=7))
    with pytest.raises(ValueError, match="scale"):
        ScaledClock.starting_now(0)


def test_without_late_submissions_a_round_ends_at_its_staking_close() -> None:
    w = round_window(day(5), late=False)
    assert w.close_time == w.close_staking_time == day(6, 14)
    assert window_opened_at(day(2, 9), late=False).close_time == day(2, 13)
