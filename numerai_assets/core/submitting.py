"""Submit one slot's predictions for one round: idempotent, verified, recorded.

Order of questions, each answered from durable state before anything is uploaded:
1. Does the ledger already hold a confirmed submission for this round and slot? Then done.
2. Is the round still open (and inside staking, or late submissions allowed)? A past round
   is replayed as a dry run: its file and ledger entry are written, nothing is uploaded.
3. Did an earlier attempt upload with an uncertain outcome? Ask Numerai before uploading again.
4. Upload (PUT checked, create verified, listed) with the ledger tracking each step.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from numerai_assets.core.artifacts import SubmissionOutcome
from numerai_assets.core.ledger import SubmissionLedger
from numerai_assets.core.numerai_client import NumeraiClient


def _already(ledger: SubmissionLedger, slot: str, round_number: int, sha256: str, *, dry_run: bool,
             allow_resubmit: bool) -> SubmissionOutcome | None:
    done = ledger.confirmed(round_number, slot, dry_run=dry_run)
    if done is None or (done.sha256 != sha256 and allow_resubmit):
        return None
    reason = ("these predictions were already submitted" if done.sha256 == sha256 else
              "different predictions were already submitted for this round (allow_resubmit is off)")
    return SubmissionOutcome(slot, round_number, "already_submitted", reason, sha256,
                             done.submission_id, done.late)


def _record_dry_run(ledger: SubmissionLedger, slot: str, round_number: int, sha256: str,
                    csv_path: Path, reason: str) -> SubmissionOutcome:
    entry = ledger.begin(round_number, slot, None, sha256, str(csv_path), dry_run=True, late=False)
    ledger.update(entry, "confirmed", detail=reason)
    return SubmissionOutcome(slot, round_number, "dry_run", reason, sha256)


def submit_slot(
    client: NumeraiClient,
    ledger: SubmissionLedger,
    *,
    slot: str,
    round_number: int,
    csv_path: Path,
    sha256: str,
    dry_run: bool = False,
    late_policy: str = "skip",
    allow_resubmit: bool = False,
    log: Callable[[str], None] = print,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> SubmissionOutcome:
    done = _already(ledger, slot, round_number, sha256, dry_run=dry_run, allow_resubmit=allow_resubmit)
    if done is not None:
        return done
    if dry_run:
        return _record_dry_run(ledger, slot, round_number, sha256, csv_path, "dry run: not uploaded")
    current = client.current_round()
    if current is None or current.number != round_number:
        where = "no round is open" if current is None else f"round {current.number} is open"
        return _record_dry_run(ledger, slot, round_number, sha256, csv_path,
                               f"round {round_number} is closed ({where}): replayed as a dry run")
    late = now() >= current.close_staking_time
    if late and late_policy != "submit":
        reason = f"staking window closed at {current.close_staking_time.isoformat()}; late policy skips"
        return SubmissionOutcome(slot, round_number, "skipped", reason, sha256, late=True)
    models = client.models()
    if slot not in models:
        raise ValueError(f"slot {slot!r} is not a model of this account; account models: {sorted(models)}")
    model_id = models[slot]
    for entry in ledger.uncertain(round_number, slot):
        found = client.find_submission(model_id, entry.remote_filename) if entry.remote_filename else None
        if found:
            ledger.update(entry.entry_id, "confirmed", submission_id=found,
                          detail="verified after an uncertain outcome")
            log(f"{slot}: earlier upload {entry.remote_filename} did land as submission {found}")
        else:
            ledger.update(entry.entry_id, "failed", detail="not on Numerai: the earlier attempt did not land")
    done = _already(ledger, slot, round_number, sha256, dry_run=False, allow_resubmit=allow_resubmit)
    if done is not None:
        return SubmissionOutcome(slot, round_number, "verified_earlier_upload",
                                 "an earlier upload with an uncertain outcome had landed", sha256,
                                 done.submission_id, done.late)
    entry = ledger.begin(round_number, slot, model_id, sha256, str(csv_path), dry_run=False, late=late)
    uploaded = False

    def on_uploaded(remote_filename: str) -> None:
        nonlocal uploaded
        uploaded = True
        ledger.update(entry, "uploaded", remote_filename=remote_filename)

    try:
        receipt = client.upload_predictions(csv_path, model_id, on_uploaded=on_uploaded)
    except Exception as exc:
        if not uploaded:  # nothing reached Numerai: a clean failure, safe to retry
            ledger.update(entry, "failed", detail=str(exc)[:500])
        raise  # after the PUT the outcome is uncertain: the entry stays 'uploaded' for verification
    ledger.update(entry, "confirmed", submission_id=receipt.submission_id)
    status = "submitted late" if late else "submitted"
    log(f"{slot}: round {round_number} {status} as {receipt.submission_id}")
    return SubmissionOutcome(slot, round_number, "submitted", status, sha256, receipt.submission_id, late)
