"""What to do about the tournament's current round: the sensor's decisions, as pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from numerai_assets.core.numerai.client import RoundInfo

LATE_POLICIES = ("skip", "submit")


@dataclass(frozen=True)
class RoundDecision:
    run: bool
    reason: str
    round_number: int | None = None
    late: bool = False


def decide(current: RoundInfo | None, requested: set[int], now: datetime, late_policy: str = "skip") -> RoundDecision:
    """Request a round once, while its staking window is open (or late, if the policy says so);
    whether it was handled (every slot confirmed) is :func:`follow_up`'s question."""
    if late_policy not in LATE_POLICIES:
        raise ValueError(f"late policy {late_policy!r} is not one of {LATE_POLICIES}")
    if current is None:
        return RoundDecision(False, "no open round")
    number = current.number
    if number in requested:
        return RoundDecision(False, f"round {number} already requested", number)
    if now < current.open_time:
        return RoundDecision(False, f"round {number} opens at {current.open_time.isoformat()}", number)
    if now >= current.close_staking_time:
        closed = f"round {number} staking window closed at {current.close_staking_time.isoformat()}"
        if late_policy == "skip":
            return RoundDecision(False, f"{closed}; late submissions disabled, skipping", number)
        return RoundDecision(True, f"{closed}; submitting late (scored, not staked)", number, late=True)
    left = (current.close_staking_time - now).total_seconds() / 60
    return RoundDecision(True, f"round {number} open, {left:.0f} min of staking window left", number)


@dataclass(frozen=True)
class FollowUp:
    """What to do about a round whose run was already requested.

    ``action``: "done" (every slot confirmed), "wait" (a run is in flight or backing off),
    "retry" (request run ``attempt`` for ``slots``), "missed" (no more tries: say so, loudly).
    """

    action: str
    reason: str
    attempt: int = 0
    slots: tuple[str, ...] = ()


def follow_up(
    number: int,
    *,
    unconfirmed: Sequence[str],
    can_submit: bool,
    in_flight: bool,
    retries_done: int,
    since_last_s: float | None,
    max_retries: int = 3,
    backoff_s: float = 60.0,
) -> FollowUp:
    """A round counts as handled only when every slot is confirmed; until then it is retried
    (bounded, with exponential backoff after the last run ended) while submitting is possible."""
    slots = tuple(sorted(unconfirmed))
    if not slots:
        return FollowUp("done", f"round {number}: every slot confirmed")
    if in_flight:
        return FollowUp("wait", f"round {number}: a run is in progress (unconfirmed: {list(slots)})")
    if not can_submit:
        return FollowUp(
            "missed",
            f"round {number} MISSED for slots {list(slots)}: no confirmed "
            "submission and the round no longer accepts ours",
            slots=slots,
        )
    if retries_done >= max_retries:
        return FollowUp(
            "missed",
            f"round {number} MISSED for slots {list(slots)}: still unconfirmed "
            f"after {max_retries} retry runs; see their logs",
            slots=slots,
        )
    wait = backoff_s * 2**retries_done
    if since_last_s is not None and since_last_s < wait:
        return FollowUp(
            "wait",
            f"round {number}: retry {retries_done + 1} of {max_retries} for "
            f"{list(slots)} in {wait - since_last_s:.0f} s",
            slots=slots,
        )
    return FollowUp(
        "retry",
        f"round {number}: slots {list(slots)} unconfirmed; retry {retries_done + 1} of {max_retries}",
        retries_done + 1,
        slots,
    )
