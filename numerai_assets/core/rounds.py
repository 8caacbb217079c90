"""What to do about the tournament's current round: the sensor's decision, as a pure function."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from numerai_assets.core.numerai_client import RoundInfo

LATE_POLICIES = ("skip", "submit")


@dataclass(frozen=True)
class RoundDecision:
    run: bool
    reason: str
    round_number: int | None = None
    late: bool = False


def decide(
    current: RoundInfo | None, handled: set[int], now: datetime, late_policy: str = "skip"
) -> RoundDecision:
    """Run a round once, while its staking window is open (or late, if the policy says so)."""
    if late_policy not in LATE_POLICIES:
        raise ValueError(f"late policy {late_policy!r} is not one of {LATE_POLICIES}")
    if current is None:
        return RoundDecision(False, "no open round")
    number = current.number
    if number in handled:
        return RoundDecision(False, f"round {number} already handled", number)
    if now < current.open_time:
        return RoundDecision(False, f"round {number} opens at {current.open_time.isoformat()}", number)
    if now >= current.close_staking_time:
        closed = f"round {number} staking window closed at {current.close_staking_time.isoformat()}"
        if late_policy == "skip":
            return RoundDecision(False, f"{closed}; late submissions disabled, skipping", number)
        return RoundDecision(True, f"{closed}; submitting late (scored, not staked)", number, late=True)
    left = (current.close_staking_time - now).total_seconds() / 60
    return RoundDecision(True, f"round {number} open, {left:.0f} min of staking window left", number)
