"""Numerai's round calendar since April 2026, as pure functions, plus a scalable clock.

From /work/shared/reference/numerai.md ("Rounds and submissions"): a round opens Tuesday to
Saturday at 12:00 UTC; Tuesday-Friday rounds close for submissions (`closeStakingTime`) at 13:00
UTC the same day, and the Saturday round at Sunday 14:00 UTC. No round opens on Sunday or
Monday. First daily scores come ~4 days after the close and a round resolves after ~31 days.
Late submissions are queued for the next round: locally a round takes late submissions
(`closeTime`) until the next round opens, or (``late=False``) none, leaving a gap between rounds
in which numerapi's `get_current_round` fails with "not open", as its source says can happen.

`ScaledClock` maps real time to calendar time `scale` times faster, anchored at a real instant
and a calendar instant, so tests can live through a week of rounds in seconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

UTC = dt.UTC
OPEN_HOUR = 12
OPEN_WEEKDAYS = (1, 2, 3, 4, 5)  # Tuesday..Saturday (Monday is 0)
SATURDAY = 5
WEEKDAY_CLOSE = dt.timedelta(hours=1)  # Tue-Fri: 13:00 the same day
SATURDAY_CLOSE = dt.timedelta(days=1, hours=2)  # Saturday: Sunday 14:00
SCORE_AFTER = dt.timedelta(days=4)
RESOLVE_AFTER = dt.timedelta(days=31)


@dataclass(frozen=True)
class RoundWindow:
    """The times of one round, as Numerai's API names them."""

    open_time: dt.datetime
    close_staking_time: dt.datetime
    close_time: dt.datetime
    score_time: dt.datetime
    resolve_time: dt.datetime


def _utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        raise ValueError(f"calendar times must be timezone-aware, got naive {t.isoformat()}")
    return t.astimezone(UTC)


def is_open_time(t: dt.datetime) -> bool:
    """True when a round opens exactly at `t` (Tuesday-Saturday 12:00:00 UTC)."""
    t = _utc(t)
    return t.weekday() in OPEN_WEEKDAYS and t.time() == dt.time(OPEN_HOUR)


def next_open(after: dt.datetime) -> dt.datetime:
    """The first opening strictly after `after`."""
    after = _utc(after)
    day = after.replace(hour=OPEN_HOUR, minute=0, second=0, microsecond=0)
    if day <= after:
        day += dt.timedelta(days=1)
    while day.weekday() not in OPEN_WEEKDAYS:
        day += dt.timedelta(days=1)
    return day


def last_open(at: dt.datetime) -> dt.datetime:
    """The latest opening at or before `at`."""
    at = _utc(at)
    day = at.replace(hour=OPEN_HOUR, minute=0, second=0, microsecond=0)
    if day > at:
        day -= dt.timedelta(days=1)
    while day.weekday() not in OPEN_WEEKDAYS:
        day -= dt.timedelta(days=1)
    return day


def round_window(open_time: dt.datetime, late: bool = True) -> RoundWindow:
    """The window of the round opening at `open_time` (which must be a calendar opening).
    `late`: late submissions until the next opening (`closeTime`); False: none, the round
    closes with staking and there is no current round until the next opening."""
    open_time = _utc(open_time)
    if not is_open_time(open_time):
        raise ValueError(f"no round opens at {open_time.isoformat()}: rounds open Tuesday-Saturday at 12:00 UTC")
    close_staking = open_time + (SATURDAY_CLOSE if open_time.weekday() == SATURDAY
                                 else WEEKDAY_CLOSE)  # fmt: skip
    close = next_open(close_staking) if late else close_staking
    return RoundWindow(open_time, close_staking, close, close_staking + SCORE_AFTER, close_staking + RESOLVE_AFTER)


def window_opened_at(now: dt.datetime, late: bool = True) -> RoundWindow:
    """A round opened by hand at `now`: it takes submissions until the calendar's next
    `closeStakingTime` after `now` (the round opening at or before it), late ones until the
    next opening after that."""
    now = _utc(now)
    w = round_window(last_open(now), late)
    if w.close_staking_time <= now:
        w = round_window(next_open(now), late)
    return RoundWindow(now, w.close_staking_time, w.close_time, w.score_time, w.resolve_time)


def fixed_window(open_time: dt.datetime, staking_window_s: float, close_window_s: float) -> RoundWindow:
    """A window of explicit lengths (the calendar aside): scores at the close, resolves 31 days
    after the open, as before the calendar existed."""
    if staking_window_s < 0 or close_window_s < staking_window_s:
        raise ValueError(
            "need 0 <= staking_window_s <= close_window_s, got "
            f"staking_window_s={staking_window_s}, close_window_s={close_window_s}"
        )
    close = open_time + dt.timedelta(seconds=close_window_s)
    return RoundWindow(
        open_time, open_time + dt.timedelta(seconds=staking_window_s), close, close, open_time + RESOLVE_AFTER
    )


def check_window(w: RoundWindow) -> None:
    if not w.open_time <= w.close_staking_time <= w.close_time:
        raise ValueError(
            f"round times out of order: open {_iso(w.open_time)}, close staking "
            f"{_iso(w.close_staking_time)}, close {_iso(w.close_time)}"
        )


def _iso(t: dt.datetime) -> str:
    return _utc(t).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ScaledClock:
    """Calendar time = `calendar_epoch` + (real time - `real_epoch`) * `scale`."""

    real_epoch: dt.datetime
    calendar_epoch: dt.datetime
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"clock scale must be > 0, got {self.scale!r}")
        _utc(self.real_epoch), _utc(self.calendar_epoch)

    @classmethod
    def starting_now(
        cls, scale: float = 1.0, calendar_start: dt.datetime | None = None, now: dt.datetime | None = None
    ) -> ScaledClock:
        """A clock whose calendar reads `calendar_start` (default: the real time) right now."""
        real = _utc(now or dt.datetime.now(UTC))
        return cls(real, _utc(calendar_start) if calendar_start else real, scale)

    def to_calendar(self, real: dt.datetime) -> dt.datetime:
        return self.calendar_epoch + (_utc(real) - self.real_epoch) * self.scale

    def to_real(self, calendar: dt.datetime) -> dt.datetime:
        return self.real_epoch + (_utc(calendar) - self.calendar_epoch) / self.scale

    def window_to_real(self, w: RoundWindow) -> RoundWindow:
        """A calendar window in real time, as the API answers it (numerapi compares to now)."""
        return RoundWindow(*(self.to_real(t) for t in (w.open_time, w.close_staking_time,
                                                       w.close_time, w.score_time,
                                                       w.resolve_time)))  # fmt: skip
