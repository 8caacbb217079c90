"""Recovery: a damaged ledger, a closed round, an expired upload URL, a ledger write failing after
the upload. Each ends with exactly one submission on the server per slot-round, or red naming why."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from numerai_assets.core.live.ledger import SubmissionLedger
from numerai_assets.core.live.reconcile import reconcile
from numerai_assets.core.live.submitting import RoundClosedError, SubmitTiming, submit_slot
from numerai_assets_tests.integrity.conftest import REPO, TIMING, finish
from numerai_assets_tests.integrity.runner import CREDENTIALS

QUIET = SubmitTiming(**TIMING)


def submit(case, ledger, **kwargs):
    return submit_slot(
        case.client(),
        ledger,
        slot=case.slot,
        round_number=case.round,
        csv_path=case.csv,
        sha256=case.sha256,
        timing=QUIET,
        log=lambda _: None,
        **kwargs,
    )


def damage(path: Path, how: str) -> None:
    if how == "deleted":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        os.truncate(path, path.stat().st_size // 2)
    else:
        path.write_bytes(b"this is not a database\n" * 200)


def ledger_cli(case, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "NUMERAI_PUBLIC_ID": CREDENTIALS[0],
        "NUMERAI_SECRET_KEY": CREDENTIALS[1],
    }
    return subprocess.run(
        [sys.executable, "-m", "numerai_assets.ledger_cli", "--ledger", str(case.ledger), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("how", ["deleted", "empty", "truncated", "garbage"])
def test_a_damaged_ledger_stops_submission_until_reconciled(case, how):
    with case.open_ledger() as ledger:
        assert submit(case, ledger).status == "submitted"
    damage(case.ledger, how)
    refused = finish(case.spawn())  # a later run on the damaged ledger
    assert refused["rc"] == 3 and refused["error"] == "LedgerUnusableError", refused
    assert str(case.ledger) in refused["message"] and "reconcile" in refused["message"]
    assert len(case.landed()) == 1

    rebuilt = ledger_cli(case, "reconcile", "--api-url", case.server.url, "--mode", "local")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"round {case.round} {case.slot}: added submission {case.landed()[0].id}" in rebuilt.stdout
    again = finish(case.spawn())
    assert again["status"] == "already_submitted", again
    assert len(case.landed()) == 1
    shown = ledger_cli(case, "show")
    assert shown.returncode == 0 and "reconciled from Numerai" in shown.stdout


def test_round_closed_between_prediction_and_upload_is_an_error_not_a_dry_run(case):
    case.server.close_round()
    with case.open_ledger() as ledger:
        with pytest.raises(RoundClosedError) as err:
            submit(case, ledger)
        assert f"slot {case.slot}: round {case.round}" in str(err.value) and "missed" in str(err.value)
        assert ledger.entries(case.round, case.slot) == []  # nothing recorded as done
        replayed = submit(case, ledger, replay=True)  # an explicit replay says so
        assert replayed.status == "replayed" and "explicit replay" in replayed.reason
        assert [e.dry_run for e in ledger.entries(case.round, case.slot)] == [True]
    assert case.landed() == []


def test_403_on_the_put_gets_a_fresh_url_and_submits_once(case):
    case.server.faults.set(upload_put_status=403, upload_put_count=1)
    with case.open_ledger() as ledger:
        outcome = submit(case, ledger)
    assert outcome.status == "submitted"
    [landed] = case.landed()
    assert outcome.submission_id == landed.id
    assert case.server.faults.upload_put_count == 0  # the 403 was really served


class DiskFullAfterUpload(SubmissionLedger):
    """The ledger write after create fails like a full disk (the disk itself cannot be filled)."""

    def update(self, entry_id, status, **fields):
        if status == "confirmed" and not fields.get("detail"):
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        super().update(entry_id, status, **fields)


@pytest.mark.parametrize("recover", ["rerun", "reconcile"])
def test_disk_full_after_upload_then_round_closes_is_reconciled_not_dry_run(case, recover):
    with DiskFullAfterUpload(case.ledger) as ledger, pytest.raises(OSError, match="No space"):
        submit(case, ledger)
    [landed] = case.landed()
    case.server.close_round()
    if recover == "rerun":
        with case.open_ledger() as ledger:
            outcome = submit(case, ledger)
        assert outcome.status == "verified_earlier_upload" and outcome.submission_id == landed.id
    else:
        report = reconcile(case.ledger, case.client(), [case.slot], log=lambda _: None)
        assert report.confirmed == [(case.round, case.slot, landed.id)]
    with case.open_ledger() as ledger:
        [entry] = ledger.entries(case.round, case.slot)
        assert (entry.status, entry.dry_run, entry.submission_id) == ("confirmed", False, landed.id)
    assert len(case.landed()) == 1


def test_a_new_home_without_ledger_or_marker_does_not_resubmit_a_listed_round(case):
    """The ledger and its marker both gone (a new host, a moved store): Numerai's listing still
    stops a second upload, and the ledger learns the submission."""
    with case.open_ledger() as ledger:
        assert submit(case, ledger).status == "submitted"
    case.ledger.unlink()
    (case.ledger.parent / (case.ledger.name + ".created")).unlink()
    again = finish(case.spawn())
    assert again["status"] == "already_submitted" and "did not know" in again["reason"], again
    [landed] = case.landed()
    with case.open_ledger() as ledger:
        assert ledger.confirmed(case.round, case.slot, dry_run=False).submission_id == landed.id
