"""An alert and its wording per kind. The key names the event, not the moment: the same event
always yields the same key, so the outbox can send it once however often a sensor sees it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

KINDS = ("run_failure", "check_failed", "missed_round", "decay_warning", "round_report")
REPORT_STAGES = ("settled", "finished")  # a round's report goes out when its submissions settle, then resolve
ONE_LINE_MAX = 300


@dataclass(frozen=True)
class Alert:
    kind: str
    key: str  # stable dedupe key of the event
    title: str
    body: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"alert kind {self.kind!r} is not one of {KINDS}")
        if not self.key.startswith(f"{self.kind}:"):
            raise ValueError(f"alert key {self.key!r} must start with its kind {self.kind!r}")


def one_line(text: str | None, limit: int = ONE_LINE_MAX) -> str:
    """The first non-empty line of ``text`` (and the next ones while a line ends in ":", whose
    subject follows), cut at ``limit`` characters: an error in one line."""
    lines = [s.strip() for s in (text or "").splitlines() if s.strip()]
    end = 1
    while end < len(lines) and lines[end - 1].endswith(":"):
        end += 1
    line = " ".join(lines[:end])
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _body(fields: Mapping[str, object], tail: str = "") -> str:
    lines = [f"- {name}: {value}" for name, value in fields.items() if value not in (None, "", ())]
    return "\n".join(lines) + (f"\n\n{tail}" if tail else "")


def _slots(slots: Iterable[str]) -> str:
    return ", ".join(slots)


def run_failure(job: str, run_id: str, error: str, round_number: int | None = None, slots: Iterable[str] = ()) -> Alert:
    """A failed run: its job, run id, round and slots where known, and the error in one line."""
    where = f" (round {round_number})" if round_number is not None else ""
    fields = {"job": job, "run": run_id, "round": round_number, "slots": _slots(slots), "reason": one_line(error)}
    return Alert("run_failure", f"run_failure:{run_id}", f"Run failed: {job}{where}", _body(fields))


def check_failed(
    asset: str,
    check: str,
    run_id: str,
    reason: str,
    round_number: int | None = None,
    slot: str | None = None,
    partition: str | None = None,
) -> Alert:
    """A failed ERROR-severity check in a run that did not fail (a failed run is alerted as such)."""
    key = f"check_failed:{run_id}:{asset}:{check}" + (f":{partition}" if partition else "")
    fields = {
        "asset": asset,
        "check": check,
        "slot": slot,
        "round": round_number,
        "partition": partition if partition != str(round_number) else None,
        "run": run_id,
        "reason": one_line(reason) or "failed",
    }
    return Alert("check_failed", key, f"Check failed: {check} on {asset}", _body(fields))


def missed_round(round_number: int, slots: Iterable[str], reason: str) -> Alert:
    """A round that ended without a confirmed submission for some slots (one alert per round)."""
    slots = list(slots)
    fields = {"round": round_number, "slots": _slots(slots), "reason": one_line(reason)}
    return Alert(
        "missed_round", f"missed_round:{round_number}", f"Round {round_number} missed: {_slots(slots)}", _body(fields)
    )


def decay_warning(slot: str, round_number: int | None, reason: str, episode: str) -> Alert:
    """A slot entered the live-below-validation warning; ``episode`` names that entry (a run id)."""
    fields = {"slot": slot, "round": round_number, "reason": one_line(reason, limit=1000)}
    at = f" at round {round_number}" if round_number is not None else ""
    return Alert("decay_warning", f"decay_warning:{slot}:{episode}", f"Score decay: {slot}{at}", _body(fields))


def round_report(round_number: int, stage: str, markdown: str) -> Alert:
    """The round report when the round's submissions settled, and again when its scores resolved."""
    if stage not in REPORT_STAGES:
        raise ValueError(f"round {round_number}: report stage {stage!r} is not one of {REPORT_STAGES}")
    title = f"Round {round_number} report ({stage})"
    return Alert("round_report", f"round_report:{round_number}:{stage}", title, markdown)
