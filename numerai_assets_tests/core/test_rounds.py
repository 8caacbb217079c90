from datetime import datetime, timedelta, timezone

import pytest

from numerai_assets.core.numerai_client import RoundInfo
from numerai_assets.core.rounds import decide

NOW = datetime(2026, 11, 24, 12, 30, tzinfo=timezone.utc)
OPEN = RoundInfo(1100, NOW - timedelta(minutes=30), NOW + timedelta(minutes=30), NOW + timedelta(days=3))
CLOSED = RoundInfo(1100, NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW + timedelta(days=3))


def test_open_round_runs_once():
    first = decide(OPEN, set(), NOW)
    assert first.run and first.round_number == 1100 and not first.late and "30 min" in first.reason
    again = decide(OPEN, {1100}, NOW)
    assert not again.run and again.reason == "round 1100 already handled"


def test_no_round_and_closed_window_say_why():
    assert decide(None, set(), NOW).reason == "no open round"
    skipped = decide(CLOSED, set(), NOW, "skip")
    assert not skipped.run and "staking window closed" in skipped.reason and "skipping" in skipped.reason
    late = decide(CLOSED, set(), NOW, "submit")
    assert late.run and late.late and "late" in late.reason
    with pytest.raises(ValueError, match="late policy"):
        decide(OPEN, set(), NOW, "maybe")
