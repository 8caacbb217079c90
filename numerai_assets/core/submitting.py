"""Submit one slot's predictions for one round: exactly once, verified, recorded.

Order of questions, each answered from durable state before anything is uploaded:
1. Does the ledger already hold a confirmed submission for this round and slot? Then done.
2. Take the (round, slot) claim (``core.claims``): one runner at a time, across processes. A
   runner that finds a live holder waits (bounded) and then reads the holder's outcome.
3. Did an earlier attempt leave an uncertain outcome (``pending``/``uploaded``)? Ask Numerai by
   the remote filename; if it is not listed, wait until that request's recorded deadline has
   passed and ask again before calling it failed. This runs even after the round closed.
4. Is the round still open? A slot that cannot submit before the close is an error
   (:class:`RoundClosedError`), never a green dry run, unless ``replay=True`` (an explicit replay
   of a past round) or ``dry_run=True``; the outcome's status says which.
5. Upload (PUT checked, one create, listed) with the ledger tracking each step.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from numerai_assets.core.artifacts import SubmissionOutcome
from numerai_assets.core.claims import Claim, acquire
from numerai_assets.core.ledger import LedgerEntry, SubmissionLedger
from numerai_assets.core.numerai_client import (
    NumeraiClient,
    NumeraiRefusedError,
    UploadOutcomeUncertainError,
)


class RoundClosedError(RuntimeError):
    """The round closed before this slot's predictions were submitted: the round is missed."""


@dataclass(frozen=True)
class SubmitTiming:
    """How long to wait for other runners and for uncertain requests (small in tests)."""

    claim_wait_s: float = 600.0  # how long to wait for a live claim holder before standing down
    outcome_margin_s: float = 30.0  # added to a request's timeout: after it, it cannot land
    poll_s: float = 0.5


def _already(ledger: SubmissionLedger, slot: str, round_number: int, sha256: str, *, dry_run: bool,
             allow_resubmit: bool) -> SubmissionOutcome | None:
    done = ledger.confirmed(round_number, slot, dry_run=dry_run)
    if done is None or (done.sha256 != sha256 and allow_resubmit):
        return None
    reason = ("these predictions were already submitted" if done.sha256 == sha256 else
              "a submission reconciled from Numerai's records exists for this round" if not done.sha256
              else "different predictions were already submitted for this round (allow_resubmit is off)")
    return SubmissionOutcome(slot, round_number, "already_submitted", reason, sha256,
                             done.submission_id, done.late)


def _record_not_uploaded(ledger: SubmissionLedger, slot: str, round_number: int, sha256: str,
                         csv_path: Path, status: str, reason: str) -> SubmissionOutcome:
    entry = ledger.begin(round_number, slot, None, sha256, str(csv_path), dry_run=True, late=False)
    ledger.update(entry, "confirmed", detail=reason)
    return SubmissionOutcome(slot, round_number, status, reason, sha256)


def _resolve(client: NumeraiClient, ledger: SubmissionLedger, entry: LedgerEntry, model_id: str,
             log: Callable[[str], None], claim: Claim) -> str | None:
    """Settle one uncertain entry: its submission id when it landed, None once it provably did not."""
    if entry.remote_filename is None or entry.deadline_at is None:
        ledger.update(entry.entry_id, "failed", detail="create was never sent: nothing can have landed")
        return None
    found = client.find_submission(model_id, entry.remote_filename)
    wait_s = entry.deadline_at - time.time()
    if found is None and wait_s > 0:  # the original create may still land: never decide earlier
        log(f"{entry.slot}: upload {entry.remote_filename} not listed yet; waiting {wait_s:.1f} s "
            f"for its request's deadline before deciding")
        time.sleep(wait_s)
        claim.check()
        found = client.find_submission(model_id, entry.remote_filename)
    if found is None:
        ledger.update(entry.entry_id, "failed",
                      detail="not on Numerai after the request's deadline: it did not land")
        return None
    ledger.update(entry.entry_id, "confirmed", submission_id=found,
                  detail="verified on Numerai after an uncertain outcome")
    log(f"{entry.slot}: upload {entry.remote_filename} did land as submission {found}")
    return found


def _listed_unknown(client: NumeraiClient, ledger: SubmissionLedger, slot: str, round_number: int,
                    model_id: str, sha256: str) -> SubmissionOutcome | None:
    """Numerai's listing has the last word: a submission for this round that the ledger does not
    know (a ledger lost with its marker, a new home, a manual upload) is recorded, not repeated."""
    known = {e.submission_id for e in ledger.entries(round_number, slot)}
    listed = [s for s in client.submissions_by_round(model_id)
              if s["round"] == round_number and s["id"] not in known]
    if not listed:
        return None
    latest = max(listed, key=lambda s: s["inserted_at"])
    ledger.add_reconciled(round_number, slot, model_id, latest["id"], latest["filename"])
    return SubmissionOutcome(
        slot, round_number, "already_submitted",
        f"Numerai already lists submission {latest['id']} for round {round_number} that the ledger "
        f"{ledger.path} did not know: recorded it, not uploading again", sha256, latest["id"])


def _upload(client: NumeraiClient, ledger: SubmissionLedger, entry_id: int, csv_path: Path,
            model_id: str, timing: SubmitTiming, claim: Claim) -> str:
    """PUT + create for one ledger entry; UploadOutcomeUncertainError leaves it to be resolved."""
    uploaded = False

    def on_uploaded(remote_filename: str) -> None:
        nonlocal uploaded
        ledger.update(entry_id, "uploaded", remote_filename=remote_filename)
        uploaded = True

    def on_create(timeout_s: float) -> None:
        claim.check()
        ledger.update(entry_id, "uploaded", deadline_at=time.time() + timeout_s + timing.outcome_margin_s)

    try:
        receipt = client.upload_predictions(csv_path, model_id, on_uploaded=on_uploaded,
                                            on_create=on_create)
    except UploadOutcomeUncertainError:
        raise
    except NumeraiRefusedError as exc:  # a refusal is definite: nothing was created
        ledger.update(entry_id, "failed", detail=str(exc)[:500])
        raise
    except Exception as exc:
        if not uploaded:  # nothing reached create: a clean failure, safe to retry
            ledger.update(entry_id, "failed", detail=str(exc)[:500])
        raise  # otherwise the entry stays 'uploaded' and is verified by the next runner
    ledger.update(entry_id, "confirmed", submission_id=receipt.submission_id)
    return receipt.submission_id


def submit_slot(
    client: NumeraiClient,
    ledger: SubmissionLedger,
    *,
    slot: str,
    round_number: int,
    csv_path: Path,
    sha256: str,
    dry_run: bool = False,
    replay: bool = False,
    late_policy: str = "skip",
    allow_resubmit: bool = False,
    log: Callable[[str], None] = print,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    timing: SubmitTiming = SubmitTiming(),
) -> SubmissionOutcome:
    """Submit ``csv_path`` for ``slot`` in ``round_number`` at most once (see the module doc)."""
    done = _already(ledger, slot, round_number, sha256, dry_run=dry_run, allow_resubmit=allow_resubmit)
    if done is not None:
        return done
    if dry_run:
        return _record_not_uploaded(ledger, slot, round_number, sha256, csv_path, "dry_run",
                                    "dry run configured: not uploaded")
    if ledger.lease_s <= client.policy.timeout_s + timing.outcome_margin_s:
        raise ValueError(f"ledger lease_s={ledger.lease_s} must exceed the client timeout "
                         f"({client.policy.timeout_s} s) plus outcome_margin_s ({timing.outcome_margin_s} s)")
    claim = acquire(ledger.claims, round_number, slot, lease_s=ledger.lease_s,
                    wait_s=timing.claim_wait_s, poll_s=min(timing.poll_s, 0.2),
                    on_wait=lambda o: log(f"{slot}: round {round_number} is being submitted by "
                                          f"{o.describe()}; waiting for its outcome"))
    try:
        return _submit_claimed(client, ledger, claim, slot=slot, round_number=round_number,
                               csv_path=csv_path, sha256=sha256, replay=replay,
                               late_policy=late_policy, allow_resubmit=allow_resubmit, log=log,
                               now=now, timing=timing)
    finally:
        try:
            claim.release()
        except sqlite3.Error as exc:  # e.g. the disk filled up: the claim ends with this process
            log(f"{slot}: could not release the claim on round {round_number} in {ledger.path}: {exc}")


def _submit_claimed(client: NumeraiClient, ledger: SubmissionLedger, claim: Claim, *, slot: str,
                    round_number: int, csv_path: Path, sha256: str, replay: bool, late_policy: str,
                    allow_resubmit: bool, log: Callable[[str], None], now: Callable[[], datetime],
                    timing: SubmitTiming) -> SubmissionOutcome:
    done = _already(ledger, slot, round_number, sha256, dry_run=False, allow_resubmit=allow_resubmit)
    if done is not None:  # another runner finished while this one waited for the claim
        return done
    uncertain = ledger.uncertain(round_number, slot)
    models = client.models() if uncertain else {}
    for entry in uncertain:
        _resolve(client, ledger, entry, entry.model_id or models[slot], log, claim)
    done = _already(ledger, slot, round_number, sha256, dry_run=False, allow_resubmit=allow_resubmit)
    if done is not None:
        return SubmissionOutcome(slot, round_number, "verified_earlier_upload",
                                 "an earlier upload with an uncertain outcome had landed", sha256,
                                 done.submission_id, done.late)
    current = client.current_round()
    if current is None or current.number != round_number:
        where = "no round is open" if current is None else f"round {current.number} is open"
        if replay:
            return _record_not_uploaded(ledger, slot, round_number, sha256, csv_path, "replayed",
                                        f"explicit replay of closed round {round_number} ({where}):"
                                        " not uploaded")
        raise RoundClosedError(
            f"slot {slot}: round {round_number} closed before its predictions were submitted "
            f"({where}); the round is missed for this slot. Pass replay=True only to replay a past "
            "round on purpose.")
    late = now() >= current.close_staking_time
    if late and late_policy != "submit":
        reason = f"staking window closed at {current.close_staking_time.isoformat()}; late policy skips"
        return SubmissionOutcome(slot, round_number, "skipped", reason, sha256, late=True)
    models = models or client.models()
    if slot not in models:
        raise ValueError(f"slot {slot!r} is not a model of this account; account models: {sorted(models)}")
    listed = None if allow_resubmit else _listed_unknown(client, ledger, slot, round_number,
                                                          models[slot], sha256)
    if listed is not None:
        log(f"{slot}: {listed.reason}")
        return listed
    for attempt in (1, 2):  # a second upload only after the first provably did not land
        claim.check()
        entry = ledger.begin(round_number, slot, models[slot], sha256, str(csv_path), dry_run=False,
                             late=late)
        try:
            submission_id = _upload(client, ledger, entry, csv_path, models[slot], timing, claim)
            break
        except UploadOutcomeUncertainError as exc:
            log(f"{slot}: {exc}; verifying before anything else is uploaded")
            submission_id = _resolve(client, ledger, ledger.get(entry), models[slot], log, claim)
            if submission_id is not None or attempt == 2:
                if submission_id is None:
                    raise
                break
    status = "submitted late" if late else "submitted"
    log(f"{slot}: round {round_number} {status} as {submission_id}")
    return SubmissionOutcome(slot, round_number, "submitted", status, sha256, submission_id, late)
