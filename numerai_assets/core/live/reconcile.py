"""Rebuild or reconcile the submission ledger from Numerai's own records.

Numerai lists every submission of a model (``submissions{id filename insertedAt round}``):
that is the truth the ledger mirrors. Reconciling (1) settles uncertain entries
(``pending``/``uploaded``) by their remote filename, also for rounds that have closed, and
(2) records, per round, the latest listed submission the ledger does not know as confirmed, so a
re-run finds it and never submits that round again. An unusable ledger file is moved aside and
rebuilt. Entries whose claim a live runner holds, or whose create may still land (deadline not
passed), are left alone and reported: run again later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from numerai_assets.core.live.claims import ClaimHeldError, acquire
from numerai_assets.core.live.ledger import LedgerEntry, SubmissionLedger
from numerai_assets.core.numerai.client import NumeraiClient


@dataclass
class ReconcileReport:
    ledger_path: Path
    moved_aside: Path | None = None
    added: list[tuple[int, str, str]] = field(default_factory=list)  # round, slot, submission id
    confirmed: list[tuple[int, str, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    left_uncertain: list[tuple[int, str, str]] = field(default_factory=list)  # round, slot, why

    def lines(self) -> list[str]:
        out = [f"ledger {self.ledger_path}"]
        if self.moved_aside:
            out.append(f"unusable ledger moved aside to {self.moved_aside}; rebuilt from Numerai")
        out += [f"round {r} {s}: added submission {i} found on Numerai" for r, s, i in self.added]
        out += [f"round {r} {s}: uncertain upload confirmed as {i}" for r, s, i in self.confirmed]
        out += [f"round {r} {s}: uncertain upload did not land (failed)" for r, s in self.failed]
        out += [
            f"round {r} {s}: still uncertain ({why}); run reconcile again later" for r, s, why in self.left_uncertain
        ]
        return out


def _settle(ledger: SubmissionLedger, entry: LedgerEntry, listed: dict[str, str], report: ReconcileReport) -> None:
    """Settle one uncertain entry under its claim; never while its create may still land."""
    try:
        claim = acquire(ledger.claims, entry.round, entry.slot, lease_s=ledger.lease_s, wait_s=0)
    except ClaimHeldError:
        report.left_uncertain.append((entry.round, entry.slot, "a live runner holds its claim"))
        return
    try:
        found = listed.get(entry.remote_filename or "")
        if found:
            ledger.update(entry.entry_id, "confirmed", submission_id=found, detail="reconciled: listed on Numerai")
            report.confirmed.append((entry.round, entry.slot, found))
        elif entry.remote_filename is None or entry.deadline_at is None or entry.deadline_at < time.time():
            ledger.update(entry.entry_id, "failed", detail="reconciled: not listed on Numerai")
            report.failed.append((entry.round, entry.slot))
        else:
            report.left_uncertain.append(
                (entry.round, entry.slot, f"its create may land until epoch {entry.deadline_at:.0f}")
            )
    finally:
        claim.release()


def reconcile_slot(
    ledger: SubmissionLedger, client: NumeraiClient, slot: str, model_id: str, report: ReconcileReport
) -> None:
    subs = sorted(client.submissions_by_round(model_id), key=lambda s: s["inserted_at"])
    listed = {s["filename"]: s["id"] for s in subs}
    for entry in ledger.entries(slot=slot):
        if not entry.dry_run and entry.status in ("pending", "uploaded"):
            _settle(ledger, entry, listed, report)
    latest = {s["round"]: s for s in subs if s["round"] is not None}  # the last one counts
    known = {e.submission_id for e in ledger.entries(slot=slot) if e.status == "confirmed"}
    for round_number, sub in sorted(latest.items()):
        if sub["id"] in known or ledger.confirmed(round_number, slot, dry_run=False) is not None:
            continue
        ledger.add_reconciled(round_number, slot, model_id, sub["id"], sub["filename"])
        report.added.append((round_number, slot, sub["id"]))


def reconcile(
    ledger_path: str | Path,
    client: NumeraiClient,
    slots: Iterable[str] | None = None,
    *,
    lease_s: float | None = None,
    log: Callable[[str], None] = print,
) -> ReconcileReport:
    """Reconcile (or rebuild) the ledger at ``ledger_path`` for ``slots`` (default: every model)."""
    kwargs = {} if lease_s is None else {"lease_s": lease_s}
    ledger, aside = SubmissionLedger.open_for_rebuild(ledger_path, **kwargs)
    report = ReconcileReport(Path(ledger_path), aside)
    with ledger:
        models = client.models()
        wanted = sorted(models) if slots is None else list(slots)
        unknown = [s for s in wanted if s not in models]
        if unknown:
            raise ValueError(f"slots {unknown} are not models of this account: {sorted(models)}")
        for slot in wanted:
            reconcile_slot(ledger, client, slot, models[slot], report)
    for line in report.lines():
        log(line)
    return report
