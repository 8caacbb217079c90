"""Submit one slot's predictions for one round: exactly once, verified, recorded.

Order of questions, each answered from durable state before anything is uploaded:
1. Does the ledger already hold a confirmed submission for this round and slot? Then done.
2. Take the (round, slot) claim (``core.live.claims``): one runner at a time, across processes. A
   runner that finds a live holder waits (bounded) and then reads the holder's outcome.
3. Did an earlier attempt leave an uncertain outcome (``pending``/``uploaded``)? Ask Numerai by
   the remote filename; if it is not listed, wait until that request's recorded deadline has
   passed and ask again before calling it failed. This runs even after the round closed.
4. Is the round still open? A slot that cannot submit before the close is an error
   (:class:`RoundClosedError`), never a green dry run, unless ``replay=True`` (an explicit replay
   of a past round) or ``dry_run=True``; the outcome's status says which.
5. Does Numerai already list a submission for this round that the ledger does not know (a
   ledger lost with its marker)? Then it is recorded, not repeated.
6. Upload (PUT checked, one create, listed) with the ledger tracking each step.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from numerai_assets.core.artifacts import SubmissionOutcome
from numerai_assets.core.live.claims import Claim, acquire
from numerai_assets.core.live.ledger import LedgerEntry, SubmissionLedger
from numerai_assets.core.numerai.client import (
    NumeraiClient,
    NumeraiRefusedError,
    RoundInfo,
    UploadOutcomeUncertainError,
)


class RoundClosedError(RuntimeError):
    """The round closed before this slot's predictions were submitted: the round is missed."""


@dataclass(frozen=True)
class SubmitTiming:
    """How long to wait for other runners and for uncertain requests (small in tests)."""

    claim_wait_s: float = 600.0  # how long to wait for a live claim holder before standing down
    outcome_margin_s: float = 30.0  # added to a request's timeout: after it, it cannot land
    poll_s: float = 0.2  # how often a waiting runner looks at the claim again


def _already(
    ledger: SubmissionLedger, slot: str, round_number: int, sha256: str, *, dry_run: bool, allow_resubmit: bool
) -> SubmissionOutcome | None:
    done = ledger.confirmed(round_number, slot, dry_run=dry_run)
    if done is None or (done.sha256 != sha256 and allow_resubmit):
        return None
    reason = (
        "these predictions were already submitted"
        if done.sha256 == sha256
        else "a submission reconciled from Numerai's records exists for this round"
        if not done.sha256
        else "different predictions were already submitted for this round (allow_resubmit is off)"
    )
    return SubmissionOutcome(slot, round_number, "already_submitted", reason, sha256, done.submission_id, done.late)


def _record_not_uploaded(
    ledger: SubmissionLedger, slot: str, round_number: int, sha256: str, csv_path: Path, status: str, reason: str
) -> SubmissionOutcome:
    entry = ledger.begin(round_number, slot, None, sha256, str(csv_path), dry_run=True, late=False)
    ledger.update(entry, "confirmed", detail=reason)
    return SubmissionOutcome(slot, round_number, status, reason, sha256)


@dataclass(frozen=True)
class _Run:
    """One claimed submission attempt: what every step below needs."""

    client: NumeraiClient
    ledger: SubmissionLedger
    claim: Claim
    slot: str
    round_number: int
    csv_path: Path
    sha256: str
    log: Callable[[str], None]
    timing: SubmitTiming


def _resolve(run: _Run, entry: LedgerEntry, model_id: str) -> str | None:
    """Settle one uncertain entry: its submission id when it landed, None once it provably did not."""
    ledger, client = run.ledger, run.client
    if entry.remote_filename is None:  # the PUT was never accepted: create cannot have been sent
        ledger.update(entry.entry_id, "failed", detail="never uploaded: nothing can have landed")
        return None
    found = client.find_submission(model_id, entry.remote_filename)
    # No deadline: create was never sent (or a ledger older than deadlines, long past).
    wait_s = 0.0 if entry.deadline_at is None else entry.deadline_at - time.time()
    if found is None and wait_s > 0:  # the original create may still land: never decide earlier
        run.log(
            f"{entry.slot}: upload {entry.remote_filename} not listed yet; waiting {wait_s:.1f} s"
            " for its request's deadline before deciding"
        )
        time.sleep(wait_s)
        run.claim.check()
        found = client.find_submission(model_id, entry.remote_filename)
    if found is None:
        why = (
            "not listed and create was never sent"
            if entry.deadline_at is None
            else "not on Numerai after the request's deadline"
        )
        ledger.update(entry.entry_id, "failed", detail=f"{why}: it did not land")
        return None
    ledger.update(
        entry.entry_id, "confirmed", submission_id=found, detail="verified on Numerai after an uncertain outcome"
    )
    run.log(f"{entry.slot}: upload {entry.remote_filename} did land as submission {found}")
    return found


def _listed_unknown(run: _Run, model_id: str) -> SubmissionOutcome | None:
    """Numerai's listing has the last word: a submission for this round that the ledger does not
    know (a ledger lost with its marker, a new home, a manual upload) is recorded, not repeated."""
    known = {e.submission_id for e in run.ledger.entries(run.round_number, run.slot)}
    listed = [
        s for s in run.client.submissions_by_round(model_id) if s["round"] == run.round_number and s["id"] not in known
    ]
    if not listed:
        return None
    latest = max(listed, key=lambda s: s["inserted_at"])
    run.ledger.add_reconciled(run.round_number, run.slot, model_id, latest["id"], latest["filename"])
    reason = (
        f"Numerai already lists submission {latest['id']} for round {run.round_number} that "
        f"the ledger {run.ledger.path} did not know: recorded it, not uploading again"
    )
    run.log(f"{run.slot}: {reason}")
    return SubmissionOutcome(run.slot, run.round_number, "already_submitted", reason, run.sha256, latest["id"])


def _upload(run: _Run, entry_id: int, model_id: str) -> str:
    """PUT + create for one ledger entry; UploadOutcomeUncertainError leaves it to be resolved."""
    ledger, uploaded = run.ledger, False

    def on_uploaded(remote_filename: str) -> None:
        nonlocal uploaded
        ledger.update(entry_id, "uploaded", remote_filename=remote_filename)
        uploaded = True

    def on_create(timeout_s: float) -> None:
        run.claim.check()
        deadline = time.time() + timeout_s + run.timing.outcome_margin_s
        ledger.update(entry_id, "uploaded", deadline_at=deadline)

    try:
        receipt = run.client.upload_predictions(run.csv_path, model_id, on_uploaded=on_uploaded, on_create=on_create)
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


def _upload_until_landed(run: _Run, model_id: str, late: bool) -> str:
    """Upload; after an uncertain create, a second upload only once the first provably did not land."""
    for attempt in (1, 2):
        run.claim.check()
        entry = run.ledger.begin(
            run.round_number, run.slot, model_id, run.sha256, str(run.csv_path), dry_run=False, late=late
        )
        try:
            return _upload(run, entry, model_id)
        except UploadOutcomeUncertainError as exc:
            run.log(f"{run.slot}: {exc}; verifying before anything else is uploaded")
            landed = _resolve(run, run.ledger.get(entry), model_id)
            if landed is not None:
                return landed
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _settle_earlier(run: _Run, allow_resubmit: bool) -> SubmissionOutcome | None:
    """Resolve earlier uncertain attempts (even for a closed round); their outcome if one landed."""
    uncertain = run.ledger.uncertain(run.round_number, run.slot)
    if not uncertain:
        return None
    models = run.client.models()
    for entry in uncertain:
        _resolve(run, entry, entry.model_id or models[run.slot])
    done = _already(run.ledger, run.slot, run.round_number, run.sha256, dry_run=False, allow_resubmit=allow_resubmit)
    if done is None:
        return None
    return SubmissionOutcome(
        run.slot,
        run.round_number,
        "verified_earlier_upload",
        "an earlier upload with an uncertain outcome had landed",
        run.sha256,
        done.submission_id,
        done.late,
    )


def _closed_round(run: _Run, current: RoundInfo | None, replay: bool) -> SubmissionOutcome:
    """A closed round: a recorded replay when asked for explicitly, else the round is missed."""
    where = "no round is open" if current is None else f"round {current.number} is open"
    if replay:
        return _record_not_uploaded(
            run.ledger,
            run.slot,
            run.round_number,
            run.sha256,
            run.csv_path,
            "replayed",
            f"explicit replay of closed round {run.round_number} ({where}): not uploaded",
        )
    raise RoundClosedError(
        f"slot {run.slot}: round {run.round_number} closed before its predictions were submitted "
        f"({where}); the round is missed for this slot. Pass replay=True only to replay a past "
        "round on purpose."
    )


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
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    timing: SubmitTiming = SubmitTiming(),
) -> SubmissionOutcome:
    """Submit ``csv_path`` for ``slot`` in ``round_number`` at most once (see the module doc)."""
    done = _already(ledger, slot, round_number, sha256, dry_run=dry_run, allow_resubmit=allow_resubmit)
    if done is not None:
        return done
    if dry_run:
        return _record_not_uploaded(
            ledger, slot, round_number, sha256, csv_path, "dry_run", "dry run configured: not uploaded"
        )
    if ledger.lease_s <= client.policy.timeout_s + timing.outcome_margin_s:
        raise ValueError(
            f"ledger lease_s={ledger.lease_s} must exceed the client timeout "
            f"({client.policy.timeout_s} s) plus outcome_margin_s ({timing.outcome_margin_s} s)"
        )
    claim = acquire(
        ledger.claims,
        round_number,
        slot,
        lease_s=ledger.lease_s,
        wait_s=timing.claim_wait_s,
        poll_s=timing.poll_s,
        on_wait=lambda o: log(
            f"{slot}: round {round_number} is being submitted by {o.describe()}; waiting for its outcome"
        ),
    )
    run = _Run(client, ledger, claim, slot, round_number, csv_path, sha256, log, timing)
    try:
        return _submit_claimed(run, replay=replay, late_policy=late_policy, allow_resubmit=allow_resubmit, now=now)
    finally:
        try:
            claim.release()
        except sqlite3.Error as exc:  # e.g. the disk filled up: the claim ends with this process
            log(f"{slot}: could not release the claim on round {round_number} in {ledger.path}: {exc}")


def _submit_claimed(
    run: _Run, *, replay: bool, late_policy: str, allow_resubmit: bool, now: Callable[[], datetime]
) -> SubmissionOutcome:
    done = _already(run.ledger, run.slot, run.round_number, run.sha256, dry_run=False, allow_resubmit=allow_resubmit)
    if done is not None:  # another runner finished while this one waited for the claim
        return done
    settled = _settle_earlier(run, allow_resubmit)
    if settled is not None:
        return settled
    current = run.client.current_round()
    if current is None or current.number != run.round_number:
        return _closed_round(run, current, replay)
    late = now() >= current.close_staking_time
    if late and late_policy != "submit":
        reason = f"staking window closed at {current.close_staking_time.isoformat()}; late policy skips"
        return SubmissionOutcome(run.slot, run.round_number, "skipped", reason, run.sha256, late=True)
    models = run.client.models()
    if run.slot not in models:
        raise ValueError(f"slot {run.slot!r} is not a model of this account; account models: {sorted(models)}")
    listed = None if allow_resubmit else _listed_unknown(run, models[run.slot])
    if listed is not None:
        return listed
    submission_id = _upload_until_landed(run, models[run.slot], late)
    status = "submitted late" if late else "submitted"
    run.log(f"{run.slot}: round {run.round_number} {status} as {submission_id}")
    return SubmissionOutcome(run.slot, run.round_number, "submitted", status, run.sha256, submission_id, late)
