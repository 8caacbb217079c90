from datetime import UTC, datetime, timedelta

import pytest

from numerai_assets.core.live.rounds import decide
from numerai_assets.core.numerai.client import RoundInfo

NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
OPEN = RoundInfo(1100, NOW - timedelta(minutes=30), NOW + timedelta(minutes=30), NOW + timedelta(days=3))
CLOSED = RoundInfo(1100, NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW + timedelta(days=3))


def test_open_round_runs_once():
    first = decide(OPEN, set(), NOW)
    assert first.run and first.round_number == 1100 and not first.late and "30 min" in first.reason
    again = decide(OPEN, {1100}, NOW)
    assert not again.run and again.reason == "round 1100 already requested"


def test_no_round_and_closed_window_say_why():
    assert decide(None, set(), NOW).reason == "no open round"
    skipped = decide(CLOSED, set(), NOW, "skip")
    assert not skipped.run and "staking window closed" in skipped.reason and "skipping" in skipped.reason
    late = decide(CLOSED, set(), NOW, "submit")
    assert late.run and late.late and "late" in late.reason
    with pytest.raises(ValueError, match="late policy"):
        decide(OPEN, set(), NOW, "maybe")


def test_follow_up_retries_unconfirmed_slots_with_backoff_then_reports_missed():
    from numerai_assets.core.live.rounds import follow_up

    kwargs = dict(unconfirmed=["b", "a"], can_submit=True, in_flight=False, backoff_s=60.0)
    assert follow_up(7, **{**kwargs, "unconfirmed": []}, retries_done=0, since_last_s=5).action == "done"
    assert follow_up(7, **{**kwargs, "in_flight": True}, retries_done=0, since_last_s=None).action == "wait"
    first = follow_up(7, **kwargs, retries_done=0, since_last_s=61)
    assert (first.action, first.attempt, first.slots) == ("retry", 1, ("a", "b"))
    backing_off = follow_up(7, **kwargs, retries_done=1, since_last_s=100)  # second waits 120 s
    assert backing_off.action == "wait" and "in 20 s" in backing_off.reason
    assert follow_up(7, **kwargs, retries_done=1, since_last_s=121).attempt == 2
    spent = follow_up(7, **kwargs, retries_done=3, since_last_s=10_000)
    assert spent.action == "missed" and "round 7 MISSED for slots ['a', 'b']" in spent.reason
    closed = follow_up(7, **{**kwargs, "can_submit": False}, retries_done=0, since_last_s=None)
    assert closed.action == "missed" and "no longer accepts" in closed.reason
