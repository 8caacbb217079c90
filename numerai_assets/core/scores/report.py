"""The round report: one summary per round of what each slot did and, as they arrive, how it
scored. A plain function renders it (markdown), so the asset shows it and alerts can send it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from numerai_assets.core.live.ledger import LedgerEntry
from numerai_assets.core.scores.live import RoundScores, summary_markdown

# The ledger lifecycle (core.live.ledger) read as what a participant wants to know.
_STATUS = {"confirmed": "submitted", "failed": "failed", "pending": "uncertain", "uploaded": "uncertain"}


@dataclass(frozen=True)
class SlotRound:
    """What happened to one slot in one round."""

    slot: str
    status: str  # submitted / dry run / failed / uncertain / gated / missed
    submission_id: str | None = None
    minutes_before_deadline: float | None = None
    late: bool = False
    gates_failed: tuple[str, ...] = ()
    gates_passed: int = 0
    detail: str | None = None
    scores: RoundScores | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _parse(ts: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None
    except ValueError:
        return None


def slot_round(
    slot: str,
    entries: Sequence[LedgerEntry],
    verdict: Mapping[str, Any] | None,
    scores: RoundScores | None,
    close_staking_time: datetime | None,
) -> SlotRound:
    """A slot's round from its ledger entries, gate verdict and live scores."""
    gates = list((verdict or {}).get("gates") or ())
    failed = tuple(g["name"] for g in gates if not g.get("passed"))
    passed = sum(1 for g in gates if g.get("passed"))
    chosen = _chosen(entries)
    if chosen is None:
        blocked = [g["name"] for g in gates if g.get("blocking") and not g.get("passed")]
        status = "gated" if blocked else "missed"
        detail = f"blocking gates failed: {', '.join(blocked)}" if blocked else "no submission recorded"
        if scores is not None and scores.submitted_by_us is False:
            status, detail = "submitted elsewhere", "scored submission was not made by this platform"
        return SlotRound(slot, status, gates_failed=failed, gates_passed=passed, detail=detail, scores=scores)
    status = "dry run" if chosen.dry_run else _STATUS.get(chosen.status, chosen.status)
    when = _parse(chosen.updated_at)
    minutes = None
    if when is not None and close_staking_time is not None:
        minutes = (close_staking_time - when).total_seconds() / 60.0
    return SlotRound(
        slot,
        status,
        submission_id=chosen.submission_id,
        minutes_before_deadline=minutes,
        late=chosen.late,
        gates_failed=failed,
        gates_passed=passed,
        detail=chosen.detail,
        scores=scores,
    )


def _chosen(entries: Sequence[LedgerEntry]) -> LedgerEntry | None:
    """The entry that speaks for the round: the latest confirmed, else the latest of any."""
    confirmed = [e for e in entries if e.status == "confirmed"]
    pool = confirmed or list(entries)
    return max(pool, key=lambda e: (e.updated_at, e.entry_id)) if pool else None


def render_round_report(
    round_number: int, slots: Sequence[SlotRound], round_info: Mapping[str, Any] | None = None
) -> str:
    """Markdown: the round's facts, a line per slot, then each slot's scores as they stand."""
    lines = [f"## Round {round_number}"]
    for key, value in (round_info or {}).items():
        lines.append(f"- {key}: {value}")
    lines += ["", "| slot | status | submission | minutes before deadline | gates | detail |", "|---" * 6 + "|"]
    for s in slots:
        minutes = "-" if s.minutes_before_deadline is None else f"{s.minutes_before_deadline:.1f}"
        if s.late:
            minutes += " (late)"
        gates = f"{s.gates_passed} passed" + (f", failed: {', '.join(s.gates_failed)}" if s.gates_failed else "")
        lines.append(f"| {s.slot} | {s.status} | {s.submission_id or '-'} | {minutes} | {gates} | {s.detail or '-'} |")
    for s in slots:
        lines += ["", f"### {s.slot} scores"]
        if s.scores is None:
            lines.append("no scores yet")
            continue
        mine = s.scores.submitted_by_us
        if mine is False:
            lines.append("(scores of a submission this platform did not make)")
        lines.append(summary_markdown(s.scores))
    return "\n".join(lines)


# statuses whose submission Numerai scores: the round is finished once these have resolved scores
_SCORED = ("submitted", "submitted elsewhere")


def round_settled(slots: Sequence[SlotRound]) -> bool:
    """Every slot's outcome is known (none still uncertain): the report can go out."""
    return bool(slots) and all(s.status != "uncertain" for s in slots)


def round_finished(slots: Sequence[SlotRound]) -> bool:
    """Settled, and every scored slot has scores that are all resolved: the round's final report."""
    scored = [s for s in slots if s.status in _SCORED]
    if not round_settled(slots) or not scored:
        return False
    return all(s.scores is not None and _all_resolved(s.scores) for s in scored)


def _all_resolved(scores: RoundScores) -> bool:
    summary = scores.summary()
    return bool(summary) and all(s["resolved"] for s in summary.values())
